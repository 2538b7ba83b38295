"""A rep's nudge settings hold in the real delivery: a deal moved in the sandbox, the scan
the clock runs (with the process's `preference_gate`), the Slack stand-in's users.info
giving the rep's zone. Opted out: no DM, for good; quiet hours on their clock: the DM
waits until their morning, then goes out once; at their cap: the next one waits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.nudge_delivery import run_nudge_scan
from bot.nudge_gate import preference_gate
from bot.runtime import BotRuntime
from sandbox.server import SandboxServer
from sandbox.slack_api import SlackStandIn
from storage.engine import session_scope
from storage.nudge_ledger import list_nudges
from storage.nudge_preferences import record_daily_cap, record_nudges_enabled, record_quiet_hours
from storage.timestamps import utc_now
from tests.bot.test_nudge_delivery import dms, nudges, owner_of, pick_deal, pick_deals  # noqa: F401 - fixtures
from tests.scheduler.conftest import LEASE_S, crm, runtime, slack  # noqa: F401 - fixtures


def at(moment: dt.datetime) -> Callable[[], dt.datetime]:
    return lambda: moment


def night_offset(now: dt.datetime) -> int:
    """A fixed UTC offset (seconds) where `now` is 23:00 local: inside 19:00-08:00 whenever the test runs."""
    hours = (23 - now.hour) % 24
    return (hours if hours <= 14 else hours - 24) * 3600 - now.minute * 60


def test_an_opted_out_rep_gets_no_dm(nudges: BotRuntime, slack: SlackStandIn, crm: SandboxServer) -> None:  # noqa: F811
    run_nudge_scan(nudges)  # the baseline
    deal = pick_deal(crm, "qualifiedtobuy", 2)
    slack.add_user("U0OPTOUT", tz="UTC", email=owner_of(crm, deal).email)
    with session_scope(nudges.knowledge.engine) as session:
        record_nudges_enabled(session, "U0OPTOUT", False)
    crm.update_objects("deals", [deal.id], {"dealstage": "presentationscheduled"})
    report = run_nudge_scan(nudges, gate=preference_gate(nudges))
    assert [(o.status, o.detail) for o in report.outcomes] == [("skipped", "nudges are off for this rep")]
    assert dms(slack) == []
    assert run_nudge_scan(nudges, gate=preference_gate(nudges), now=at(utc_now() + dt.timedelta(days=1))).outcomes == []


def test_quiet_hours_on_the_reps_clock_hold_the_dm_until_their_morning(nudges: BotRuntime, slack: SlackStandIn,  # noqa: F811
                                                                       crm: SandboxServer) -> None:  # noqa: F811
    run_nudge_scan(nudges)
    deal = pick_deal(crm, "appointmentscheduled", 3)
    now = utc_now()
    offset = night_offset(now)
    slack.add_user("U0NIGHT", tz_offset=offset, email=owner_of(crm, deal).email)  # a zone Slack names by offset only
    crm.update_objects("deals", [deal.id], {"dealstage": "qualifiedtobuy"})
    held = run_nudge_scan(nudges, gate=preference_gate(nudges))
    assert [o.status for o in held.outcomes] == ["deferred"] and dms(slack) == []
    with session_scope(nudges.knowledge.engine) as session:
        entry = next(e for e in list_nudges(session) if e.deal_id == str(deal.id))
    local = dt.timezone(dt.timedelta(seconds=offset))
    assert entry.retry_at is not None and entry.retry_at.astimezone(local).time() == dt.time(8)
    assert dt.timedelta(hours=8) < entry.retry_at - now < dt.timedelta(hours=10)  # from 23:00 to 08:00
    early = run_nudge_scan(nudges, gate=preference_gate(nudges), now=at(entry.retry_at - dt.timedelta(minutes=5)))
    assert early.outcomes == [] and dms(slack) == []
    sent = run_nudge_scan(nudges, gate=preference_gate(nudges), now=at(entry.retry_at + dt.timedelta(minutes=1)))
    assert [o.status for o in sent.outcomes] == ["posted"] and len(dms(slack)) == 1
    assert [c["params"]["user"] for c in slack.of("users.info")].count("U0NIGHT") == 1  # the zone is cached


def test_a_rep_at_their_cap_waits(nudges: BotRuntime, slack: SlackStandIn, crm: SandboxServer) -> None:  # noqa: F811
    run_nudge_scan(nudges)
    first, second = pick_deal(crm, "contractsent", 0), pick_deal(crm, "contractsent", 1)
    slack.users_by_email[owner_of(crm, first).email] = "U0CAPPED"
    slack.users_by_email[owner_of(crm, second).email] = "U0CAPPED"
    with session_scope(nudges.knowledge.engine) as session:
        record_daily_cap(session, "U0CAPPED", 1)
        record_quiet_hours(session, "U0CAPPED", 0, 0)  # the test runs at any hour
    crm.update_objects("deals", [first.id, second.id], {"dealstage": "decisionmakerboughtin"})
    report = run_nudge_scan(nudges, gate=preference_gate(nudges))
    assert sorted(o.status for o in report.outcomes) == ["deferred", "posted"] and len(dms(slack)) == 1
    assert next(o.detail for o in report.outcomes if o.status == "deferred") == "daily cap of 1 reached"
