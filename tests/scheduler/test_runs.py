"""execute(): exactly one post per (subscription, period), across repeats, crashes,
concurrent workers and CRM outages; controlled fire times, no real waiting."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bot.blocks import render_result
from bot.posting import post
from bot.runtime import BotRuntime
from sandbox.faults import Fault, FaultPlan
from sandbox.server import SandboxServer
from sandbox.slack_api import SlackStandIn
from scheduler.clock import retry_due
from scheduler.runs import RunOutcome, execute, run_metadata
from storage.engine import session_scope
from storage.subscriptions import Subscription, claim_run, fetch_run, list_runs, mark_posting
from tests.scheduler.conftest import LEASE_S, MONDAY_0900, posts

WEEK = dt.timedelta(days=7)
AFTER_LEASE = dt.timedelta(seconds=LEASE_S + 1)


def test_weekly_digest_posts_once_per_week(runtime: BotRuntime, slack: SlackStandIn, subscribe: Callable[..., Subscription]) -> None:
    sub = subscribe()
    first = execute(runtime, sub.id, MONDAY_0900)
    assert first.status == "posted" and first.period == "2025-W23" and first.message_ts
    again = execute(runtime, sub.id, MONDAY_0900 + dt.timedelta(days=2))  # a second fire time, same week
    assert again.status == "skipped" and again.period == "2025-W23"
    next_week = execute(runtime, sub.id, MONDAY_0900 + WEEK)
    assert next_week.status == "posted" and next_week.period == "2025-W24"

    sent = posts(slack, sub.channel_id)
    assert len(sent) == 2
    charts = [f["title"] for shared in _shared_files(slack, sub.channel_id) for f in shared["files"]]
    assert len(charts) == 2 and all((runtime.settings.reports_dir / f"{t}.png").exists() for t in charts)
    assert [m["metadata"]["event_payload"]["run_key"] for m in sent] == [f"{sub.id}:2025-W23", f"{sub.id}:2025-W24"]
    assert all(m["metadata"]["event_type"] == "journeybot_run" for m in sent)
    with session_scope(runtime.knowledge.engine) as session:
        assert [(r.period, r.state) for r in list_runs(session, sub.id)] == [("2025-W23", "posted"), ("2025-W24", "posted")]


def _post_then_crash(runtime: BotRuntime, sub: Subscription, now: dt.datetime, *, with_files: bool = True) -> str:
    """What a worker does up to chat.postMessage (and, `with_files`, the chart's upload),
    then dies before finish_run."""
    engine = runtime.knowledge.engine
    with session_scope(engine) as session:
        run = claim_run(session, sub.id, "2025-W23", fire_time=MONDAY_0900, now=now)
        assert run is not None
    with session_scope(engine) as session:
        assert mark_posting(session, run, now=now)
    result = runtime.registry.dispatch(runtime.context(sub.channel_id, None), "velocity")
    message = render_result("velocity", result)
    if not with_files:
        message = replace(message, files=[])
    ts = post(runtime.client, message, channel=sub.channel_id, metadata=run_metadata(sub.id, "2025-W23"))
    assert ts
    return ts


def test_crash_after_posting_is_found_in_history_not_posted_again(runtime: BotRuntime, slack: SlackStandIn,
                                                                   subscribe: Callable[..., Subscription]) -> None:
    sub = subscribe()
    crashed_at = MONDAY_0900 + dt.timedelta(minutes=1)
    ts = _post_then_crash(runtime, sub, crashed_at)

    # while the dead worker's lease runs, nobody touches the run
    assert execute(runtime, sub.id, MONDAY_0900, now=crashed_at + dt.timedelta(minutes=2)).status == "skipped"
    restarted = execute(runtime, sub.id, MONDAY_0900, now=crashed_at + AFTER_LEASE)
    assert restarted == RunOutcome("recovered", sub.id, "2025-W23", ts)
    assert len(posts(slack, sub.channel_id)) == 1
    assert any(c["params"].get("include_all_metadata") for c in slack.of("conversations.history"))
    with session_scope(runtime.knowledge.engine) as session:
        run = fetch_run(session, sub.id, "2025-W23")
        assert run is not None and (run.state, run.message_ts, run.attempts) == ("posted", ts, 2)
    assert execute(runtime, sub.id, MONDAY_0900, now=crashed_at + 2 * AFTER_LEASE).status == "skipped"
    assert len(_shared_files(slack, sub.channel_id)) == 1, "the chart went up before the crash: not again"


def _shared_files(slack: SlackStandIn, channel: str) -> list[dict[str, Any]]:
    return [c["params"] for c in slack.of("files.completeUploadExternal") if c["params"].get("channel_id") == channel]


def test_a_post_recovered_after_a_crash_gets_the_chart_it_never_uploaded(
    runtime: BotRuntime, slack: SlackStandIn, subscribe: Callable[..., Subscription]
) -> None:
    sub = subscribe()
    crashed_at = MONDAY_0900 + dt.timedelta(minutes=1)
    ts = _post_then_crash(runtime, sub, crashed_at, with_files=False)
    assert not _shared_files(slack, sub.channel_id)
    restarted = execute(runtime, sub.id, MONDAY_0900, now=crashed_at + AFTER_LEASE)
    assert restarted == RunOutcome("recovered", sub.id, "2025-W23", ts)
    shared, = _shared_files(slack, sub.channel_id)
    assert shared["thread_ts"] == ts and "velocity" in json.dumps(shared["files"]).lower()
    assert len(posts(slack, sub.channel_id)) == 1, "the post itself is not repeated"
    execute(runtime, sub.id, MONDAY_0900, now=crashed_at + 2 * AFTER_LEASE)
    assert len(_shared_files(slack, sub.channel_id)) == 1


def test_crash_before_posting_posts_once_on_restart(runtime: BotRuntime, slack: SlackStandIn,
                                                    subscribe: Callable[..., Subscription]) -> None:
    sub = subscribe()
    crashed_at = MONDAY_0900 + dt.timedelta(minutes=1)
    with session_scope(runtime.knowledge.engine) as session:
        assert claim_run(session, sub.id, "2025-W23", fire_time=MONDAY_0900, now=crashed_at) is not None
    # the retry loop picks the stale run up by itself, with its original fire time
    outcomes = [o for o in retry_due(runtime, now=crashed_at + AFTER_LEASE) if o.subscription_id == sub.id]
    assert [o.status for o in outcomes] == ["posted"]
    assert len(posts(slack, sub.channel_id)) == 1
    assert execute(runtime, sub.id, MONDAY_0900).status == "skipped"


def test_a_stale_posting_run_without_a_message_is_posted(runtime: BotRuntime, slack: SlackStandIn,
                                                         subscribe: Callable[..., Subscription]) -> None:
    sub = subscribe()
    crashed_at = MONDAY_0900 + dt.timedelta(minutes=1)
    with session_scope(runtime.knowledge.engine) as session:
        run = claim_run(session, sub.id, "2025-W23", fire_time=MONDAY_0900, now=crashed_at)
        assert run is not None and mark_posting(session, run, now=crashed_at)
    assert execute(runtime, sub.id, MONDAY_0900, now=crashed_at + AFTER_LEASE).status == "posted"
    assert len(posts(slack, sub.channel_id)) == 1


def test_concurrent_workers_post_once(runtime: BotRuntime, slack: SlackStandIn, subscribe: Callable[..., Subscription]) -> None:
    sub = subscribe()
    outcomes: list[RunOutcome] = []
    barrier = threading.Barrier(3)

    def work() -> None:
        barrier.wait()
        outcomes.append(execute(runtime, sub.id, MONDAY_0900))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(o.status for o in outcomes) == ["posted", "skipped", "skipped"]
    assert len(posts(slack, sub.channel_id)) == 1


def test_crm_outage_one_delay_notice_then_the_digest(runtime: BotRuntime, slack: SlackStandIn, crm: SandboxServer,
                                                     subscribe: Callable[..., Subscription]) -> None:
    sub = subscribe()
    crm.faults.configure(FaultPlan(rate=1.0, kinds=(Fault(503),)))
    try:
        first = execute(runtime, sub.id, MONDAY_0900)
        assert first.status == "delayed" and first.detail
        later = MONDAY_0900 + dt.timedelta(minutes=5)
        again = [o for o in retry_due(runtime, now=later) if o.subscription_id == sub.id]
        assert [o.status for o in again] == ["delayed"]
    finally:
        crm.faults.clear()
    sent = posts(slack, sub.channel_id)
    assert len(sent) == 1 and "delayed" in sent[0]["text"] and "2025-W23" in sent[0]["text"]
    assert "HubSpot is not answering" in sent[0]["text"] and "Error" not in sent[0]["text"]  # the reader's words
    assert first.detail not in sent[0]["text"]  # the internal reason stays in the run record
    assert "metadata" not in sent[0]  # a notice is not the run's post

    recovered = [o for o in retry_due(runtime, now=MONDAY_0900 + dt.timedelta(minutes=10)) if o.subscription_id == sub.id]
    assert [o.status for o in recovered] == ["posted"]
    assert retry_due(runtime, now=MONDAY_0900 + dt.timedelta(minutes=15)) == [] or all(
        o.subscription_id != sub.id for o in retry_due(runtime, now=MONDAY_0900 + dt.timedelta(minutes=15)))
    sent = posts(slack, sub.channel_id)
    assert len(sent) == 2 and sent[1]["metadata"]["event_payload"]["run_key"] == f"{sub.id}:2025-W23"
    with session_scope(runtime.knowledge.engine) as session:
        run = fetch_run(session, sub.id, "2025-W23")
        assert run is not None and (run.state, run.attempts, run.delay_notice_sent) == ("posted", 3, True)


def test_history_honours_oldest_and_limit(slack: SlackStandIn) -> None:
    from slack_sdk import WebClient

    client = WebClient(token="xoxb-test", base_url=slack.base_url)
    stamps = [client.chat_postMessage(channel="C1", text=f"m{i}", metadata={"event_type": "x", "event_payload": {"i": i}})["ts"]
              for i in range(3)]
    page: Any = client.conversations_history(channel="C1", oldest=stamps[0], limit=1, include_all_metadata=True)
    assert [m["text"] for m in page["messages"]] == ["m2"] and page["has_more"] is True
    assert page["messages"][0]["metadata"]["event_payload"] == {"i": 2}
    plain: Any = client.conversations_history(channel="C1")
    assert [m["text"] for m in plain["messages"]] == ["m2", "m1", "m0"] and "metadata" not in plain["messages"][0]


def test_a_refused_post_is_retried_with_backoff_then_fails_for_good(runtime: BotRuntime, slack: SlackStandIn,
                                                                   subscribe: Callable[..., Subscription]) -> None:
    """The bot was removed from the channel: not 'posting' forever, but a bounded retry
    with growing pauses, then 'failed' with the reason, logged."""
    from scheduler.clock import retry_due
    from scheduler.runs import MAX_ATTEMPTS, retry_backoff_s
    from storage.subscriptions import latest_runs

    sub = subscribe()
    slack.outside[sub.channel_id] = "not_in_channel"
    first = execute(runtime, sub.id, MONDAY_0900)
    assert first.status == "retrying" and "not_in_channel" in first.detail
    now = dt.datetime.now(dt.UTC)
    assert [o for o in retry_due(runtime, now=now) if o.subscription_id == sub.id] == []  # still in its pause
    statuses = []
    for attempt in range(1, MAX_ATTEMPTS + 2):
        now += dt.timedelta(seconds=retry_backoff_s(attempt) + 1)
        statuses += [o.status for o in retry_due(runtime, now=now) if o.subscription_id == sub.id]
    assert statuses == ["retrying"] * (MAX_ATTEMPTS - 2) + ["failed"]
    with session_scope(runtime.knowledge.engine) as session:
        run = latest_runs(session, [sub.id])[sub.id]
    assert run.state == "failed" and "not_in_channel" in run.detail and run.attempts == MAX_ATTEMPTS
    assert posts(slack, sub.channel_id) == []
    slack.outside.pop(sub.channel_id)
    # the subscriber hears of it in App Home
    from bot.home import publish_home

    slack.members[sub.channel_id] = {"U0SUBSCRIBER"}
    publish_home(runtime, "U0SUBSCRIBER")
    view = json.dumps(slack.of("views.publish")[-1]["params"])
    assert "failed: Slack refused the post: not_in_channel" in view


def test_an_operator_runs_a_period_by_hand_once_unless_forced(runtime: BotRuntime, slack: SlackStandIn,
                                                             subscribe: Callable[..., Subscription]) -> None:
    from scheduler.manual import run_subscription_now
    from skills.registry import SkillInputError

    sub = subscribe()
    now = MONDAY_0900 + dt.timedelta(hours=3)
    first = run_subscription_now(runtime, sub.id, now=now)
    assert first.status == "posted" and first.period == "2025-W23"
    assert run_subscription_now(runtime, sub.id, now=now).status == "skipped"  # exactly once per period
    again = run_subscription_now(runtime, sub.id, now=now, force=True)
    assert again.status == "posted" and len(posts(slack, sub.channel_id)) == 2
    try:
        run_subscription_now(runtime, 999_999, now=now)
        raise AssertionError("an unknown subscription must be refused")
    except SkillInputError as exc:
        assert "no active subscription 999999" in str(exc)


def test_a_rescheduled_subscription_does_not_post_its_period_again(runtime: BotRuntime, slack: SlackStandIn,
                                                                   subscribe: Callable[..., Subscription]) -> None:
    from skills.schedules import parse_subscription
    from skills.schedules import subscribe as subscribe_channel

    sub = subscribe()
    assert execute(runtime, sub.id, MONDAY_0900).status == "posted"
    with session_scope(runtime.knowledge.engine) as session:
        edited = subscribe_channel(session, sub.channel_id, parse_subscription("digest weekly mon 11:00 UTC"), created_by="cli")
    assert edited.updated and edited.subscription.id == sub.id
    later_same_week = execute(runtime, sub.id, MONDAY_0900 + dt.timedelta(hours=2))
    assert later_same_week.status == "skipped" and later_same_week.period == "2025-W23"
    assert len(posts(slack, sub.channel_id)) == 1


def test_a_digest_says_what_it_reports_and_as_of_when(runtime: BotRuntime, slack: SlackStandIn,
                                                       subscribe: Callable[..., Subscription]) -> None:
    """The run is keyed by its fire time's week; the post is about the week before, and
    both the outcome and the message say so (with the moment its figures were read)."""
    sub = subscribe()
    outcome = execute(runtime, sub.id, MONDAY_0900)
    assert (outcome.period, outcome.covers) == ("2025-W23", "week 2025-W22")
    assert outcome.describe() == "run 2025-W23 (reports week 2025-W22)"
    posted = json.dumps(posts(slack, sub.channel_id)[0]["blocks"])
    assert "Velocity, week 2025-W22" in posted and f"as of {MONDAY_0900:%Y-%m-%d %H:%M} UTC" in posted


def test_a_scheduled_run_deletes_report_copies_past_their_keep_days(runtime: BotRuntime,
                                                                     subscribe: Callable[..., Subscription]) -> None:
    folder = runtime.settings.reports_dir
    folder.mkdir(parents=True, exist_ok=True)
    old, recent = folder / "velocity-from-long-ago.png", folder / "gaps-from-last-week.csv"
    for path, days in ((old, runtime.settings.reports_keep_days + 1), (recent, 7)):
        path.write_bytes(b"x")
        stamp = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).timestamp()
        os.utime(path, (stamp, stamp))
    keep_all = replace(runtime, settings=runtime.settings.model_copy(update={"reports_keep_days": 0}))
    assert execute(keep_all, subscribe().id, MONDAY_0900).status == "posted"
    assert old.exists() and recent.exists()  # 0 keeps them all
    assert execute(runtime, subscribe().id, MONDAY_0900).status == "posted"
    assert not old.exists() and recent.exists()
    assert any(p.name.startswith("velocity-") for p in folder.iterdir())  # this run's chart
