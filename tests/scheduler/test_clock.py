"""APScheduler on a SQLite job store: one job per active subscription with a stable id,
kept in step by sync_jobs, and a run missed while no clock ran goes out once on start."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.runtime import BotRuntime
from config import Settings
from sandbox.slack_api import SlackStandIn
from scheduler import clock
from scheduler.periods import last_fire_time
from storage.engine import create_all, make_engine, session_scope
from storage.subscriptions import Subscription, add_subscription, deactivate_subscription, list_runs
from tests.scheduler.conftest import posts


def test_sync_jobs_follows_the_subscriptions(tmp_path: Path) -> None:
    settings = Settings.from_mapping({"data_dir": tmp_path})
    engine = make_engine(settings.database_url)
    create_all(engine)
    with session_scope(engine) as session:
        weekly = add_subscription(session, channel_id="C1", kind="digest", cron="0 9 * * mon", timezone="Europe/Berlin")
        daily = add_subscription(session, channel_id="C2", kind="churn", cron="15 8 * * *")
    scheduler = clock.build_scheduler(settings, engine=engine)
    scheduler.start(paused=True)
    try:
        report = clock.sync_jobs(scheduler, engine)
        assert sorted(report.added) == [f"sub-{weekly.id}", f"sub-{daily.id}"]
        job = scheduler.get_job(f"sub-{weekly.id}")
        assert job.func_ref == "scheduler.clock:run_subscription" and job.kwargs == {"subscription_id": weekly.id}
        assert job.coalesce is True and job.misfire_grace_time == settings.scheduler_misfire_grace_s
        assert job.next_run_time.weekday() == 0 and job.next_run_time.hour == 9
        assert str(job.next_run_time.tzinfo) == "Europe/Berlin"
        assert clock.sync_jobs(scheduler, engine) == clock.SyncReport()  # nothing changed

        with session_scope(engine) as session:
            assert deactivate_subscription(session, weekly.id)
            row = session.get(Subscription, daily.id)
            assert row is not None
            row.cron = "30 7 * * *"
            session.add(row)
        report = clock.sync_jobs(scheduler, engine)
        assert report.removed == [f"sub-{weekly.id}"] and report.rescheduled == [f"sub-{daily.id}"]
        assert [j.id for j in scheduler.get_jobs()] == [f"sub-{daily.id}"]
        assert scheduler.get_job(f"sub-{daily.id}").next_run_time.minute == 30
    finally:
        scheduler.shutdown(wait=False)
    engine.dispose()


def test_a_subscription_whose_first_fire_passed_before_the_clock_saw_it_runs_at_once(tmp_path: Path) -> None:
    """Subscribed at 08:59:30 for 09:00, the clock's next read at 09:00:40: that 09:00
    period is still owed, not skipped until next week."""
    settings = Settings.from_mapping({"data_dir": tmp_path})
    engine = make_engine(settings.database_url)
    create_all(engine)
    now = dt.datetime.now(dt.UTC)
    with session_scope(engine) as session:
        owed = add_subscription(session, channel_id="C1", kind="digest", cron="* * * * *")
        owed_row = session.get(Subscription, owed.id)
        assert owed_row is not None
        owed_row.created_at = now - dt.timedelta(seconds=90)  # a fire time passed since
        fresh = add_subscription(session, channel_id="C2", kind="churn", cron="0 8 1 1 *")  # next January
    scheduler = clock.build_scheduler(settings, engine=engine)
    scheduler.start(paused=True)
    try:
        clock.sync_jobs(scheduler, engine)
        assert scheduler.get_job(f"sub-{owed.id}").next_run_time <= dt.datetime.now(dt.UTC)
        assert scheduler.get_job(f"sub-{fresh.id}").next_run_time > now + dt.timedelta(days=1)
    finally:
        scheduler.shutdown(wait=False)
    engine.dispose()


def test_a_misfired_run_within_the_grace_runs_once_on_start(tmp_path: Path, runtime: BotRuntime, slack: SlackStandIn,
                                                             subscribe: Callable[..., Subscription]) -> None:
    sub = subscribe(cron="0 * * * *")  # hourly: the latest fire time is always within the grace
    jobs = make_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    clock.install(runtime)
    before = clock.build_scheduler(runtime.settings, engine=jobs)
    before.start(paused=True)
    clock.sync_jobs(before, runtime.knowledge.engine)
    before.shutdown(wait=False)
    latest = last_fire_time(sub.cron, sub.timezone, dt.datetime.now(dt.UTC))
    assert latest is not None

    # restart as the leader does (paused, sync, resume) after three fire times went by
    after = clock.build_scheduler(runtime.settings, engine=jobs)
    after.start(paused=True)
    after.modify_job(f"sub-{sub.id}", next_run_time=latest - dt.timedelta(hours=3))
    assert clock.sync_jobs(after, runtime.knowledge.engine).added == []
    after.resume()
    try:
        slack.wait_for(lambda calls: any(c["method"] == "chat.postMessage" and c["params"].get("channel") == sub.channel_id
                                         for c in calls), timeout=30)
        time.sleep(0.5)
    finally:
        after.shutdown(wait=True)
    assert len(posts(slack, sub.channel_id)) == 1  # coalesced: one post, not four
    with session_scope(runtime.knowledge.engine) as session:
        runs = list_runs(session, sub.id)
    assert [(r.period, r.state) for r in runs] == [(f"{latest:%Y-%m-%dT%H:%M}", "posted")]
    jobs.dispose()


def test_clock_tick_leads_once(tmp_path: Path, runtime: BotRuntime, subscribe: Callable[..., Subscription],
                               caplog: pytest.LogCaptureFixture) -> None:
    subscribe()
    jobs = make_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    first = clock.Clock(runtime, new_scheduler=lambda: clock.build_scheduler(runtime.settings, engine=jobs))
    second = clock.Clock(runtime, new_scheduler=lambda: clock.build_scheduler(runtime.settings, engine=jobs))
    try:
        assert first.tick() is True and second.tick() is False and second.tick() is False
        assert first.scheduler is not None and second.scheduler is None
        waiting = [r for r in caplog.records if "waits: another clock leads" in r.getMessage()]
        assert len(waiting) == 1  # the follower says so, once
        assert any(j.id.startswith("sub-") for j in first.scheduler.get_jobs())
        first.leader.release()
        first.stop_scheduler()
        assert second.tick() is True and second.scheduler is not None
    finally:
        for c in (first, second):
            c.stop_scheduler()
            c.leader.release()
    jobs.dispose()


def test_the_leader_prunes_old_slack_event_receipts(runtime: BotRuntime, tmp_path: Path) -> None:
    from sqlmodel import select

    from scheduler.clock import Clock
    from scheduler.leader import Leader
    from storage.slack_state import EventReceipt

    engine = runtime.knowledge.engine
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=8)
    with session_scope(engine) as session:
        session.add(EventReceipt(event_id="EvOLD-prune", received_at=old))
        session.add(EventReceipt(event_id="EvNEW-prune"))
    jobs = make_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    leader_clock = Clock(runtime, new_scheduler=lambda: clock.build_scheduler(runtime.settings, engine=jobs),
                         leader=Leader(engine, name="prune-test", holder="h1", ttl_s=60))
    try:
        assert leader_clock.tick()
    finally:
        leader_clock.stop_scheduler()
        leader_clock.leader.release()
    with session_scope(engine) as session:
        ids = {r.event_id for r in session.exec(select(EventReceipt))}
    assert "EvNEW-prune" in ids and "EvOLD-prune" not in ids
