"""Deal nudges end to end: the real CRM gateway against the sandbox HubSpot server, the
real WebClient against the Slack stand-in, the real database. A deal moved in the sandbox
reaches its owner as exactly one DM with its content; scans after it, reminders, a gate's
deferral, a crash between claim and post and two scans at once post nothing twice."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable
from typing import Any
from wsgiref.simple_server import make_server

from pydantic import SecretStr

from bot.app import build_runtime, create_web_app
from bot.blocks.nudge import ASSET_BLOCK
from bot.button_values import SentRef
from bot.ids import SENT_IT
from bot.nudge_delivery import EVENT_TYPE, nudge_metadata, run_nudge_scan
from bot.nudge_gate import GateVerdict
from bot.runtime import BotRuntime
from sandbox.server import SandboxServer
from sandbox.slack_api import SlackStandIn
from sandbox.webhooks import WebhookSender, WebhookTarget
from storage.engine import session_scope
from storage.nudge_ledger import claim_nudge, list_nudges, mark_nudge_posting, nudges_to_send
from storage.nudge_preferences import record_quiet_hours
from storage.timestamps import utc_now
from tests.bot.conftest import _QuietHandler, _ThreadingWSGIServer
from tests.scheduler.conftest import LEASE_S, crm, nudges, runtime, slack  # noqa: F401 - fixtures

DAY = dt.timedelta(days=1)


def pick_deal(crm: SandboxServer, stage: str, skip: int = 0) -> Any:  # noqa: F811
    """An open deal in `stage` with v2 stage dates, an owner and contacts (the `skip`-th)."""
    found = [d for d in crm.portal.objects["deals"].values()
             if d.properties.get("dealstage") == stage and f"hs_v2_date_entered_{stage}" in d.properties
             and d.properties.get("hubspot_owner_id") and crm.portal.associated("deals", "contacts", d.id)]
    return found[skip]


def pick_deals(crm: SandboxServer, stage: str, n: int, skip: int = 0) -> list[Any]:  # noqa: F811
    """`n` such deals with different owners (each owner's DM is told apart)."""
    out: list[Any] = []
    i = skip
    while len(out) < n:
        deal = pick_deal(crm, stage, i)
        if all(d.properties["hubspot_owner_id"] != deal.properties["hubspot_owner_id"] for d in out):
            out.append(deal)
        i += 1
    return out


def owner_of(crm: SandboxServer, deal: Any) -> Any:  # noqa: F811
    return next(o for o in crm.portal.owners if str(o.id) == deal.properties["hubspot_owner_id"])


def dms(slack: SlackStandIn) -> list[dict[str, Any]]:  # noqa: F811
    return [c["params"] for c in slack.of("chat.postMessage") if str(c["params"].get("channel", "")).startswith("D")]


def blocks_of(params: dict[str, Any]) -> list[dict[str, Any]]:
    raw = params.get("blocks")
    return json.loads(raw) if isinstance(raw, str) else list(raw or [])


def metadata_of(params: dict[str, Any]) -> dict[str, Any]:
    raw = params.get("metadata")
    return json.loads(raw) if isinstance(raw, str) else dict(raw or {})


def at(offset: dt.timedelta) -> Callable[[], dt.datetime]:
    start = utc_now()
    return lambda: start + offset


def test_a_moved_deal_reaches_its_owner_once_with_its_content(nudges: BotRuntime, slack: SlackStandIn,  # noqa: F811
                                                              crm: SandboxServer) -> None:  # noqa: F811
    baseline = run_nudge_scan(nudges)
    assert baseline.baseline and baseline.examined == len(crm.portal.objects["deals"]) and baseline.queued == []
    assert dms(slack) == []  # the first scan ever nudges nobody

    deal = pick_deal(crm, "presentationscheduled")
    owner = owner_of(crm, deal)
    slack.users_by_email[owner.email] = "U0OWNER1"
    buyer = crm.portal.associated("deals", "contacts", deal.id)[0]
    crm.update_objects("contacts", [buyer], {"hs_buying_role": "DECISION_MAKER"})  # the economic buyer is on it
    crm.update_objects("deals", [deal.id], {"dealstage": "contractsent"})
    report = run_nudge_scan(nudges)
    assert not report.baseline and report.changed == 1 and report.count("posted") == 1
    [dm] = dms(slack)
    assert dm["channel"] == "D0OWNER1"
    opened = slack.of("conversations.open")
    assert [c["params"]["users"] for c in opened] == ["U0OWNER1"]
    meta = metadata_of(dm)
    assert meta["event_type"] == EVENT_TYPE and meta["event_payload"]["nudge_key"].startswith(f"{deal.id}:contractsent:")

    payload = json.dumps(blocks_of(dm)) + dm["text"]
    assert deal.properties["dealname"] in payload and "Contract Sent" in payload and "Decision" in payload
    decision = nudges.knowledge.live.current().journey_map.stage("decision")
    assert decision.handoff_criteria and all(c in payload for c in decision.handoff_criteria)
    assert decision.definition[:60] in payload and "Get ahead of these buyer questions" in payload
    assert "@" not in payload.replace("<@", "")  # no email anywhere, the owner's or a contact's
    contacts = [crm.portal.objects["contacts"][c] for c in crm.portal.associated("deals", "contacts", deal.id)]
    assert all(c.properties["email"] not in payload for c in contacts)
    assets = [b for b in blocks_of(dm) if str(b.get("block_id", "")).startswith(ASSET_BLOCK)]
    assert assets and all("<http" in b["text"]["text"] for b in assets)  # each asset its own section, a link
    stakeholder = next(b["text"]["text"] for b in blocks_of(dm) if "*Economic buyer" in (b.get("text") or {}).get("text", ""))
    first, last = (crm.portal.objects["contacts"][buyer].properties[k] for k in ("firstname", "lastname"))
    assert f"{first} {last}" in stakeholder
    assert "Missing from the buying committee" in payload and "*Economic buyer" not in payload.split("Missing from")[1]

    again = run_nudge_scan(nudges)
    assert again.changed == 0 and again.outcomes == [] and len(dms(slack)) == 1
    # the deal's record changes but not its stage: still nothing
    crm.update_objects("deals", [deal.id], {"amount": "99000"})
    assert run_nudge_scan(nudges).changed == 0 and len(dms(slack)) == 1


def test_reminders_at_1x_and_2x_the_target_once_each(nudges: BotRuntime, slack: SlackStandIn,  # noqa: F811
                                                     crm: SandboxServer) -> None:  # noqa: F811
    run_nudge_scan(nudges)
    deal = pick_deal(crm, "decisionmakerboughtin")
    slack.users_by_email[owner_of(crm, deal).email] = "U0OWNER2"
    crm.update_objects("deals", [deal.id], {"dealstage": "contractsent"})  # decision: 14 days target
    kinds = []
    for offset in (0, 13, 15, 16, 29, 40):
        report = run_nudge_scan(nudges, now=at(offset * DAY))
        kinds += [o.key.rsplit(":", 1)[1] for o in report.outcomes if o.status == "posted"]
    assert kinds == ["entered", "overdue_1x", "overdue_2x"]
    texts = [dm["text"] for dm in dms(slack)]
    assert len(texts) == 3 and "past its target" in texts[1] and "twice its target" in texts[2]
    assert "Still missing" in json.dumps(blocks_of(dms(slack)[1]))


class Quiet:
    """A rep's quiet hours until `until` (the gate helper D builds; here the protocol only)."""

    def __init__(self, until: dt.datetime) -> None:
        self.until = until
        self.asked: list[int] = []

    def verdict(self, slack_user_id: str, now: dt.datetime, sent_today: int) -> GateVerdict:
        self.asked.append(sent_today)
        return GateVerdict(send=True) if now >= self.until else GateVerdict(False, self.until, "quiet hours")


def test_a_deferred_nudge_is_kept_and_sent_after_retry_at(nudges: BotRuntime, slack: SlackStandIn,  # noqa: F811
                                                          crm: SandboxServer) -> None:  # noqa: F811
    run_nudge_scan(nudges)
    first, second = pick_deal(crm, "qualifiedtobuy", 0), pick_deal(crm, "qualifiedtobuy", 1)
    slack.users_by_email[owner_of(crm, first).email] = "U0QUIET"
    slack.users_by_email[owner_of(crm, second).email] = "U0QUIET"
    crm.update_objects("deals", [first.id, second.id], {"dealstage": "presentationscheduled"})
    gate = Quiet(utc_now() + dt.timedelta(hours=8))
    held = run_nudge_scan(nudges, gate=gate)
    assert held.count("deferred") == 2 and dms(slack) == []
    assert run_nudge_scan(nudges, gate=gate, now=at(dt.timedelta(hours=7))).outcomes == []
    sent = run_nudge_scan(nudges, gate=gate, now=at(dt.timedelta(hours=8, minutes=1)))
    assert sent.count("posted") == 2 and len(dms(slack)) == 2
    assert gate.asked[-2:] == [0, 1]  # the ledger's count of DMs in the last 24 hours reaches the gate


def test_a_scan_killed_after_posting_is_found_in_the_dm_not_posted_again(nudges: BotRuntime, slack: SlackStandIn,  # noqa: F811
                                                                         crm: SandboxServer) -> None:  # noqa: F811
    run_nudge_scan(nudges)
    posted_deal, unposted_deal = pick_deals(crm, "appointmentscheduled", 2)
    for d, user in ((posted_deal, "U0CRASH1"), (unposted_deal, "U0CRASH2")):
        slack.users_by_email[owner_of(crm, d).email] = user
    crm.update_objects("deals", [posted_deal.id, unposted_deal.id], {"dealstage": "qualifiedtobuy"})
    # detection only (a gate that defers nothing never runs: the process "dies" before delivery)
    engine = nudges.knowledge.engine
    from skills.context import SkillContext
    from skills.stage_changes import detect_stage_changes

    ctx = SkillContext(nudges.settings, nudges.knowledge)
    detect_stage_changes(engine, ctx.gateway, ctx.journey_map, utc_now())
    now = utc_now()
    with session_scope(engine) as session:
        owed = {e.deal_id: e for e in nudges_to_send(session, now=now, lease_s=LEASE_S)}
    # the first was claimed and posted, the process died before recording it; the second only claimed
    with session_scope(engine) as session:
        one = claim_nudge(session, owed[str(posted_deal.id)], now=now)
        two = claim_nudge(session, owed[str(unposted_deal.id)], now=now)
        assert one is not None and two is not None
        assert mark_nudge_posting(session, one, channel_id="D0CRASH1", slack_user_id="U0CRASH1", now=now)
    nudges.client.chat_postMessage(channel="D0CRASH1", text="nudge", metadata=nudge_metadata(one.nudge_key))
    assert run_nudge_scan(nudges).outcomes == []  # within the lease nobody touches them
    report = run_nudge_scan(nudges, now=at(dt.timedelta(seconds=LEASE_S + 60)))
    assert sorted(o.status for o in report.outcomes) == ["posted", "recovered"]
    assert [dm["channel"] for dm in dms(slack)] == ["D0CRASH1", "D0CRASH2"]  # each once
    with session_scope(engine) as session:
        assert {e.state for d in (posted_deal, unposted_deal) for e in list_nudges(session, str(d.id))} == {"posted"}


def test_two_scans_at_once_post_once(nudges: BotRuntime, slack: SlackStandIn, crm: SandboxServer) -> None:  # noqa: F811
    run_nudge_scan(nudges)
    deal = pick_deal(crm, "contractsent")
    slack.users_by_email[owner_of(crm, deal).email] = "U0TWICE"
    crm.update_objects("deals", [deal.id], {"dealstage": "decisionmakerboughtin"})
    barrier = threading.Barrier(2)
    reports: list[Any] = []

    def scan() -> None:
        barrier.wait()
        reports.append(run_nudge_scan(nudges))

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(dms(slack)) == 1 and sum(r.count("posted") for r in reports) == 1


def test_unmapped_stage_said_plainly_and_an_owner_without_slack_is_undeliverable(
        nudges: BotRuntime, slack: SlackStandIn, crm: SandboxServer) -> None:  # noqa: F811
    run_nudge_scan(nudges)
    renewal = pick_deal(crm, "renewalupcoming")
    slack.users_by_email[owner_of(crm, renewal).email] = "U0RENEW"
    crm.update_objects("deals", [renewal.id], {"dealstage": "renewalreview"})
    report = run_nudge_scan(nudges)
    [dm] = dms(slack)
    text = json.dumps(blocks_of(dm))
    assert "not mapped to any journey stage" in text and "Business Review" in text
    assert "Get ahead of" not in text  # no guessing

    nobody = next(d for d in pick_deals(crm, "presentationscheduled", 2, skip=3)
                  if owner_of(crm, d) != owner_of(crm, renewal))
    slack.users_by_email.pop(owner_of(crm, nobody).email, None)
    crm.update_objects("deals", [nobody.id], {"dealstage": "decisionmakerboughtin"})
    report = run_nudge_scan(nudges)
    assert [o.status for o in report.outcomes] == ["undeliverable"]
    assert run_nudge_scan(nudges).outcomes == []  # recorded: no retry storm
    assert len(dms(slack)) == 1


def test_a_closed_deal_gets_no_nudge_and_a_dry_run_changes_nothing(nudges: BotRuntime, slack: SlackStandIn,  # noqa: F811
                                                                   crm: SandboxServer) -> None:  # noqa: F811
    run_nudge_scan(nudges)
    won = pick_deal(crm, "contractsent", 1)
    moved = next(d for d in pick_deals(crm, "qualifiedtobuy", 3, skip=2) if owner_of(crm, d) != owner_of(crm, won))
    slack.users_by_email[owner_of(crm, won).email] = "U0WON"
    slack.users_by_email[owner_of(crm, moved).email] = "U0DRY"
    crm.update_objects("deals", [won.id], {"dealstage": "closedwon", "hs_is_closed": "true", "hs_is_closed_won": "true"})
    crm.update_objects("deals", [moved.id], {"dealstage": "presentationscheduled"})
    dry = run_nudge_scan(nudges, dry_run=True)
    assert [n.deal_id for n in dry.nudges] == [str(moved.id)] and dry.outcomes == [] and dms(slack) == []
    assert dry.nudges[0].journey_stage_name == "Decision"
    report = run_nudge_scan(nudges)
    assert report.changed == 2 and [o.deal_id for o in report.outcomes if o.status == "posted"] == [str(moved.id)]
    assert [dm["channel"] for dm in dms(slack)] == ["D0DRY"]


def test_deals_named_by_a_webhook_are_read_by_id_and_still_nudged_once(
        nudges: BotRuntime, slack: SlackStandIn, crm: SandboxServer) -> None:  # noqa: F811
    run_nudge_scan(nudges)
    deal, other = pick_deals(crm, "presentationscheduled", 2, skip=4)
    slack.users_by_email[owner_of(crm, deal).email] = "U0HOOK"
    slack.users_by_email[owner_of(crm, other).email] = "U0OTHER"
    crm.update_objects("deals", [deal.id, other.id], {"dealstage": "decisionmakerboughtin"})
    crm.reset_counters()
    named = run_nudge_scan(nudges, deal_ids=[str(deal.id)])
    assert named.examined == 1 and [o.deal_id for o in named.outcomes] == [str(deal.id)]
    assert not [k for k in crm.counts if k.startswith("search")]  # read by id: no sync, no search
    assert [dm["channel"] for dm in dms(slack)] == ["D0HOOK"]
    later = run_nudge_scan(nudges)  # the incremental scan sees both; only the other is new
    assert [o.deal_id for o in later.outcomes] == [str(other.id)]
    assert [dm["channel"] for dm in dms(slack)] == ["D0HOOK", "D0OTHER"]


def test_a_crm_outage_is_reported_and_the_next_scan_catches_up(nudges: BotRuntime, slack: SlackStandIn,  # noqa: F811
                                                               crm: SandboxServer) -> None:  # noqa: F811
    run_nudge_scan(nudges)
    deal = pick_deal(crm, "qualifiedtobuy", 3)
    slack.users_by_email[owner_of(crm, deal).email] = "U0OUTAGE"
    crm.update_objects("deals", [deal.id], {"dealstage": "presentationscheduled"})
    crm.faults.fail_next(20, status=503)
    down = run_nudge_scan(nudges)
    assert down.crm_problem and down.outcomes == [] and dms(slack) == []
    crm.faults.clear()
    up = run_nudge_scan(nudges)
    assert up.crm_problem is None and [o.status for o in up.outcomes] == ["posted"]
    assert [dm["channel"] for dm in dms(slack)] == ["D0OUTAGE"]


def test_a_webhook_for_a_moved_deal_brings_its_nudge_once(nudges: BotRuntime, slack: SlackStandIn,  # noqa: F811
                                                          crm: SandboxServer) -> None:  # noqa: F811
    """The real-time path wired as deployed: the sandbox's signed webhook reaches the web
    app, its job runs the nudge scan for that deal (the runtime's default handler), and the
    owner gets one DM; the clock's scan afterwards finds nothing left to say."""
    secret = "hubspot-app-secret-e2e"
    settings = nudges.settings.model_copy(update={"hubspot_client_secret": SecretStr(secret)})
    web_runtime = build_runtime(settings, knowledge=nudges.knowledge)
    httpd = make_server("127.0.0.1", 0, create_web_app(web_runtime), server_class=_ThreadingWSGIServer,
                        handler_class=_QuietHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        assert run_nudge_scan(nudges).baseline
        url = f"http://127.0.0.1:{httpd.server_address[1]}/hubspot/webhooks"
        crm.webhooks = WebhookSender(WebhookTarget(url, app_id=77, client_secret=secret))
        deal = pick_deal(crm, "presentationscheduled", 2)
        slack.users_by_email[owner_of(crm, deal).email] = "U0OWNER9"
        with session_scope(nudges.knowledge.engine) as session:  # the test runs at any hour: no quiet hours for this rep
            record_quiet_hours(session, "U0OWNER9", 0, 0)
        crm.move_deal(deal.id, "contractsent")
        assert crm.webhooks.wait_idle(10) and [d.status for d in crm.webhooks.deliveries] == [200]
        deadline = time.monotonic() + 20
        while not dms(slack) and time.monotonic() < deadline:
            time.sleep(0.1)
        [dm] = dms(slack)
        assert dm["channel"] == "D0OWNER9"
        assert metadata_of(dm)["event_payload"]["nudge_key"].startswith(f"{deal.id}:contractsent:")
        buttons = [SentRef.decode(b["accessory"]["value"]) for b in blocks_of(dm)
                   if b.get("accessory", {}).get("action_id") == SENT_IT]
        assert buttons and all((r.deal_id, r.stage_id) == (str(deal.id), "contractsent") and r.entered_ms for r in buttons)
        assert run_nudge_scan(nudges).count("posted") == 0 and len(dms(slack)) == 1
    finally:
        if crm.webhooks is not None:
            crm.webhooks.close()
            crm.webhooks = None
        httpd.shutdown()
        httpd.server_close()
