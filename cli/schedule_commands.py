"""Scheduled posts, previewed: `journeybot digest --dry-run` and `journeybot churn --dry-run`.

- `digest`: the weekly velocity digest exactly as the scheduler would post it (headline,
  per-stage table, stalled deals; the chart only with `--out DIR`); nothing is posted.
- `churn`: with `--dry-run`, the churn alerts that WOULD be posted now, after the alert
  ledger's snooze / acknowledge / cooldown filtering (skills.churn_alerts), without recording
  them; without it, the ordinary `churn` skill command. Extra arguments are the skill's
  own (`--min_severity high --owner 'Ava Adams'`), as typed after `/journey churn`.
Owners are shown by name here (Slack mentions need the bot's Slack client). JSON shapes:
docs/cli.md. Register with `register_schedule_commands(app)` and skip "churn" in
`register_skill_commands` (this `churn` replaces the generated one).
"""

from __future__ import annotations

import json
import shlex
from typing import Annotated, Any

import typer
from rich.console import Console

from cli.exit_codes import ExitCode
from cli.skill_commands import OutOption, dispatch_or_exit, out_folder, run_skill
from config import load_settings

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

JSON_HELP = "Print JSON (shapes in docs/cli.md)."


def _message_dict(message: Any) -> dict[str, object]:
    return {"text": message.text, "blocks": message.payload_blocks(), "files": [str(f) for f in message.files]}


def digest(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the digest instead of posting it.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    pipeline: Annotated[str | None, typer.Option(help="One pipeline (id or label); default: every pipeline.")] = None,
    week: Annotated[str | None, typer.Option(help="Any date in the week; default: the last full week.")] = None,
    out_dir: OutOption = None,
) -> None:
    """The weekly velocity digest as it would be posted: headline, stage table, stalled deals, chart."""
    if not dry_run:
        err.print("[red]the scheduler posts the digest; use --dry-run to preview it here[/red]")
        raise typer.Exit(ExitCode.USAGE)
    from bot.blocks import render_result
    from cli.text.velocity import render
    from skills.velocity_report import VelocityReport

    parts = [("--pipeline", pipeline), ("--week", week)]
    _, report = dispatch_or_exit("velocity", " ".join(f"{k} {shlex.quote(v)}" for k, v in parts if v),
                                 reports_dir=out_folder(out_dir))
    assert isinstance(report, VelocityReport)
    message = render_result("velocity", report)
    if as_json:
        out.print_json(json.dumps({"dry_run": True, "chart_path": report.to_dict()["chart_path"],
                                   "report": report.to_dict(), "message": _message_dict(message)}, default=str))
        return
    out.print(render(report), highlight=False)


def churn(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the alerts that would be posted now.")] = False,
    per_finding: Annotated[bool, typer.Option("--per-finding", help="With --dry-run: one message per alert.")] = False,
    channel: Annotated[str | None, typer.Option(
        "--channel", help="With --dry-run: as the scheduler would post in this channel (its subscription's filters, "
                          "its alert ledger).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Churn-risk alerts for customers; --dry-run previews the scheduled alerts (cooldown, snoozes, acks applied)."""
    text = " ".join(shlex.quote(a) for a in ctx.args)
    if not dry_run:
        run_skill("churn", text, as_json=as_json)
        return
    from bot.blocks.churn import render_alerts
    from skills.churn import ChurnReport
    from skills.churn_alerts import decide_alerts
    from storage.engine import session_scope

    if channel and not text:
        text = _subscription_filters(channel)
    skill_ctx, report = dispatch_or_exit("churn", text)  # the skill's own --min_severity / --owner
    assert isinstance(report, ChurnReport)
    cooldown = skill_ctx.settings.churn_alert_cooldown_days
    with session_scope(skill_ctx.engine) as session:
        decisions = decide_alerts(session, report.findings, report.now, cooldown, scope=channel or "")
    chosen = [d.finding for d in decisions if d.send]
    messages = render_alerts(chosen, per_finding, scope=report.owner_filter, as_of=report.now)
    if as_json:
        out.print_json(json.dumps({
            "dry_run": True, "now": report.now.isoformat(), "cooldown_days": cooldown, "per_finding": per_finding,
            "owner": report.owner_filter, "min_severity": report.min_severity,
            "would_alert": [dict(f.to_dict(), reason=d.reason) for d, f in
                            ((d, d.finding) for d in decisions if d.send)],
            "skipped": [d.to_dict() for d in decisions if not d.send],
            "messages": [_message_dict(m) for m in messages]}, default=str))
        return
    lines = [f"Churn alerts that would be posted now ({len(chosen)} of {len(decisions)} findings; "
             f"{cooldown}-day cooldown; {'one message per alert' if per_finding else 'one message'}):"]
    for d in decisions:
        f = d.finding
        mark = "ALERT" if d.send else "skip "
        lines.append(f"  {mark} {f.severity.upper():<6} {f.account} / {f.rule}: {d.reason}")
    lines.append(f"{len(messages)} message(s) would be posted.")
    out.print("\n".join(lines), highlight=False)


def _subscription_filters(channel: str) -> str:
    """The filters of the channel's churn subscription, as option text ("" when none)."""
    from storage.engine import make_engine, session_scope
    from storage.subscriptions import list_subscriptions

    with session_scope(make_engine(load_settings().database_url)) as session:
        subscription = next((s for s in list_subscriptions(session, channel_id=channel) if s.kind == "churn"), None)
        filters = dict(subscription.filters) if subscription else {}
    return " ".join(f"--{k} {shlex.quote(str(v))}" for k, v in filters.items())


def run(
    subscription_id: Annotated[int, typer.Argument(help="The id from `journeybot subscriptions`.")],
    now: Annotated[bool, typer.Option("--now", help="Post the period we are in now, not the last one due.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Post again even if this period was posted already.")] = False,
) -> None:
    """Post a subscription's period now, as the clock would (once per period unless --force)."""
    from bot.app import SlackNotConfigured, build_runtime
    from scheduler.manual import run_subscription_now
    from skills.registry import SkillInputError
    from storage.timestamps import utc_now

    try:
        runtime = build_runtime(load_settings())
        outcome = run_subscription_now(runtime, subscription_id, now=utc_now(), current=now, force=force)
    except (SlackNotConfigured, SkillInputError) as exc:
        err.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(ExitCode.USAGE) from None
    out.print(f"subscription {subscription_id}, {outcome.describe()}: {outcome.status}"
              + (f" - {outcome.detail}" if outcome.detail else ""), highlight=False)
    if outcome.status in ("failed", "retrying", "delayed"):
        raise typer.Exit(ExitCode.FAILURE)


def register_schedule_commands(app: typer.Typer) -> None:
    """Add `digest` and `churn` (call after register_skill_commands(..., skip={"ask", "churn"}))."""
    app.command("digest")(digest)
    app.command("run")(run)
    app.command("churn", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(churn)
