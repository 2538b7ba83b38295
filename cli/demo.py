"""`journeybot demo`: the whole product on embedded defaults, no account of any kind.

It starts the sandbox CRM and a local Slack Web API stand-in on 127.0.0.1, indexes the
sample map into local Chroma and SQLite, runs every skill through the registry (the
path Slack and the scheduler use), then lets the scheduler fire a weekly digest and
churn alerts into the stand-in and prints what was posted, and finally moves one deal to
its next stage through the sandbox's admin endpoint, as a rep would in HubSpot, and shows
the clock's nudge scan DMing the deal's owner.

It never touches the configured state: it keeps its own folder (default <data dir>/demo,
with its own SQLite and Chroma) and always answers from the packaged sample map.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from config import Settings
    from storage.subscriptions import SubscriptionKind

DEMO_TOKEN = "demo-sandbox-token"
DEMO_QUESTION = "CFO keeps asking about ROI, what do I send?"
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def demo(
    question: Annotated[str, typer.Option(help="The question to ask the map.")] = DEMO_QUESTION,
    seed: Annotated[int, typer.Option(help="Seed of the sandbox portal.")] = 7,
    folder: Annotated[Path | None, typer.Option("--dir", help="The demo's own state folder; default <data dir>/demo.")] = None,
) -> None:
    """Run journeybot end to end on the sample map and a sandbox CRM (in a folder of its own)."""
    from rich.rule import Rule

    from cli.knowledge_commands import _run_index
    from cli.preflight import check_writable
    from cli.skill_commands import print_result
    from config import load_settings
    from knowledge.service import KnowledgeService
    from sandbox.generator import generate_portal
    from sandbox.server import SandboxServer
    from skills.builtin import default_registry
    from skills.context import SkillContext

    base = load_settings()
    demo_dir = folder or base.data_dir / "demo"
    check_writable(demo_dir, "--dir" if folder else "JOURNEYBOT_DATA_DIR")
    with err.status("Generating the sandbox CRM portal ..."):
        portal = generate_portal(seed)
    with SandboxServer(portal, token=DEMO_TOKEN, rate_limit=(100, 10.0)) as server:
        settings = _demo_settings(base, server.base_url, demo_dir)
        knowledge = KnowledgeService(settings)
        _run_index(knowledge, None)
        ctx = SkillContext(settings, knowledge, reports_dir=settings.reports_dir)  # shown: where its files went
        registry = default_registry()
        steps: list[tuple[str, str, dict[str, Any]]] = [
            ("ask", "", {"question": question}),
            ("gaps", "", {}),
            ("velocity", "", {}),
            ("churn", "--min_severity high", {}),
            ("account", _busiest_company(portal), {}),
        ]
        for name, text, values in steps:
            out.print(Rule(f"journeybot {name} {text or values.get('question', '')}".strip()))
            with err.status(f"running {name} ..."):
                result = registry.dispatch(ctx, name, text, **values)
            print_result(name, result, as_json=False)
        _scheduled_posts(settings, knowledge)
        _deal_moves_and_its_owner_is_nudged(settings, knowledge, server.base_url, portal)
    err.print(f"\nThe demo's own state is in {demo_dir} (SQLite, Chroma, reports); your data dir "
              f"{base.data_dir} was not touched. Try: {_command()} ask \"what matters to IT in consideration?\"",
              highlight=False, markup=False)


def _command() -> str:
    """How to run journeybot from here: the bare name when it is on PATH, else its path."""
    here = Path(sys.argv[0])
    on_path = shutil.which("journeybot")
    if here.name != "journeybot" or (on_path is not None and Path(on_path).resolve() == here.resolve()):
        return "journeybot"
    return str(here)


def _demo_settings(base: Settings, base_url: str, demo_dir: Path) -> Settings:
    """The user's settings with everything stateful pointed at the demo's own folder."""
    from pydantic import SecretStr

    from config import Settings
    from config.settings import SAMPLE_MAP

    values = base.model_dump()
    values.update(data_dir=demo_dir, database_url="", chroma_path=None, chroma_host=None,
                  journey_map_path=SAMPLE_MAP, hubspot_access_token=SecretStr(DEMO_TOKEN), hubspot_base_url=base_url)
    return Settings.from_mapping(values)


def _busiest_company(portal: Any) -> str:
    """The sandbox company with the most open deals: the most interesting readiness view."""
    counts: dict[int, int] = {}
    for (from_type, to_type), links in portal.associations.items():
        if (from_type, to_type) == ("companies", "deals"):
            for company_id, deal_ids in links.items():
                counts[company_id] = len(deal_ids)
    best = max(counts, key=lambda c: counts[c])
    return str(portal.objects["companies"][best].properties.get("name"))


def _move_a_deal(base_url: str, portal: Any) -> dict[str, Any]:
    """A rep moves the largest open deal one stage on: POST /_sandbox/deals/{id}/stage, the
    sandbox's admin endpoint, which records it as HubSpot would (and sends the webhook when
    one is configured). Returns the endpoint's answer (dealId, fromStage, toStage, at)."""
    import json
    import urllib.request

    from rich.rule import Rule

    from sandbox.stage_moves import next_stage

    deals = [d for d in portal.records("deals") if d.properties.get("hs_is_closed") == "false"]
    deal = max(deals, key=lambda d: (float(str(d.properties.get("amount") or 0)), -d.id))
    stage = next_stage(portal, deal.id)
    assert stage is not None  # an open deal always has a next stage
    request = urllib.request.Request(
        f"{base_url}/_sandbox/deals/{deal.id}/stage", data=json.dumps({"stage": stage.id}).encode(), method="POST",
        headers={"Authorization": f"Bearer {DEMO_TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        move: dict[str, Any] = json.loads(response.read())
    labels = {s.id: s.label for p in portal.pipelines for s in p.stages}
    out.print(Rule("sandbox CRM: a deal moves"))
    out.print(f"{deal.properties.get('dealname')} (deal {move['dealId']}) moved from {labels[move['fromStage']]} to "
              f"{labels[move['toStage']]} at {deal.text('hs_lastmodifieddate')}; the next CRM sync finds it by its "
              "last-modified time.", highlight=False)
    return move


def _deal_moves_and_its_owner_is_nudged(settings: Settings, knowledge: Any, base_url: str, portal: Any) -> None:
    """The clock's nudge scan around a move: the first scan only records where every deal
    stands (nobody is nudged), the deal moves, the next scan DMs its owner."""
    from rich.rule import Rule

    from bot.nudge_delivery import run_nudge_scan
    from bot.owners import clear_cache
    from sandbox.slack_api import SlackStandIn
    from storage.deal_stage_watch import forget_watched_deals

    slack = SlackStandIn().start()
    try:
        runtime = _demo_runtime(settings, knowledge, slack)
        with runtime.session() as session:
            forget_watched_deals(session)  # the portal is new on every run: start from a new baseline
        with err.status("nudges: the first scan records where every deal stands ..."):
            run_nudge_scan(runtime)
        move = _move_a_deal(base_url, portal)
        deal = portal.objects["deals"][int(move["dealId"])]
        owner = next(o for o in portal.owners if str(o.id) == deal.properties.get("hubspot_owner_id"))
        slack.users_by_email[owner.email] = "U0DEMOREP"  # the owner's Slack account, found by email
        clear_cache()  # the digest above asked another stand-in, which may have had this one's port
        with err.status("nudges: the clock's next scan ..."):
            report = run_nudge_scan(runtime)
        out.print(Rule("deal nudge: a DM to the deal's owner"))
        out.print(f"scan: {report.changed} deal changed stage, {report.count('posted')} nudge posted "
                  f"({report.hubspot_requests} HubSpot requests)", highlight=False)
        for call in slack.of("chat.postMessage"):
            out.print(Rule(f"DM {call['params'].get('channel')}", style="dim"))
            out.print(blocks_as_text(call["params"].get("blocks")) or str(call["params"].get("text", "")),
                      highlight=False, markup=False)
    finally:
        slack.stop()


def blocks_as_text(blocks: Any) -> str:
    """A posted message's Block Kit as the terminal can show it: what the rep reads, and
    the buttons by their labels."""
    def label(element: dict[str, Any]) -> str:
        return str((element.get("text") or {}).get("text", ""))

    lines: list[str] = []
    for block in blocks if isinstance(blocks, list) else []:
        kind = block.get("type")
        if kind in ("header", "section"):
            text = label(block)
            button = block.get("accessory") or {}
            if button.get("type") == "button":
                text += f"  [{label(button)}]"
            lines += [text] if text else []
            lines += [f.get("text", "").replace("\n", ": ", 1) for f in block.get("fields") or []]
        elif kind == "context":
            lines.append("  ".join(e.get("text", "") for e in block.get("elements") or [] if e.get("text")))
        elif kind == "actions":
            lines.append("  ".join(f"[{label(e)}]" for e in block.get("elements") or []))
        elif kind == "divider":
            lines.append("")
    return _plain("\n".join(lines).strip())


def _plain(mrkdwn: str) -> str:
    """Slack's mrkdwn as plain text: links as `title <url>`, no emphasis marks, entities decoded."""
    import html
    import re

    text = re.sub(r"<([^|>\s]+)\|([^>]+)>", r"\2 <\1>", mrkdwn)
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"\1", text)
    text = re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", r"\1", text)
    return html.unescape(text)


def _demo_runtime(settings: Settings, knowledge: Any, slack: Any) -> Any:
    """The bot's runtime with its WebClient on the Slack stand-in."""
    from pydantic import SecretStr

    from bot.app import build_runtime
    from config import Settings

    values = settings.model_dump()
    values.update(slack_bot_token=SecretStr("xoxb-demo"), slack_signing_secret=SecretStr("demo-secret"),
                  slack_api_base_url=slack.base_url)
    return build_runtime(Settings.from_mapping(values), knowledge=knowledge)


DEMO_SUBSCRIPTIONS: tuple[tuple[str, SubscriptionKind, str, dict[str, str]], ...] = (
    ("C0LEADERS", "digest", "0 9 * * mon", {}), ("C0SUCCESS", "churn", "0 8 * * *", {"min_severity": "high"}))


def _scheduled_posts(settings: Settings, knowledge: Any) -> None:
    """The clock's run path: subscriptions fire once per period into the Slack stand-in."""
    from rich.rule import Rule

    from sandbox.slack_api import SlackStandIn
    from scheduler.periods import last_fire_time
    from scheduler.runs import execute
    from storage.subscriptions import add_subscription, list_subscriptions
    from storage.timestamps import utc_now

    slack = SlackStandIn().start()
    try:
        runtime = _demo_runtime(settings, knowledge, slack)
        now = utc_now()
        with runtime.session() as session:
            existing = {(s.channel_id, s.kind): s.id for s in list_subscriptions(session)}
            subs: list[tuple[int, str, str, str]] = []
            for channel, kind, cron, filters in DEMO_SUBSCRIPTIONS:
                sub_id = existing.get((channel, kind))
                if sub_id is None:
                    sub_id = add_subscription(session, channel_id=channel, kind=kind, cron=cron, filters=filters).id
                assert sub_id is not None  # flushed: the database gave it an id
                subs.append((sub_id, channel, kind, cron))
        out.print(Rule("scheduler: subscriptions firing into the Slack stand-in"))
        for sub_id, channel, sub_kind, cron in subs:
            fire = last_fire_time(cron, "UTC", now) or now
            with err.status(f"running the {sub_kind} subscription ..."):
                outcome = execute(runtime, sub_id, fire, now=now)
            note = {"skipped": "already posted for this period by an earlier run: exactly once"}.get(outcome.status, outcome.detail)
            out.print(f"#{channel} {sub_kind}, {outcome.describe()}: {outcome.status}{' - ' + note if note else ''}")
        for call in slack.of("chat.postMessage"):
            params = call["params"]
            out.print(Rule(f"posted to #{params.get('channel')}", style="dim"))
            out.print(str(params.get("text", "")), highlight=False)
        uploads = slack.of("files.completeUploadExternal")
        if uploads:
            titles = [f.get("title") for c in uploads for f in (c["params"].get("files") or [])]
            out.print(f"images uploaded with the posts: {', '.join(str(t) for t in titles)} (copies in {settings.reports_dir})")
    finally:
        slack.stop()
