"""The clock scans for deal nudges: one interval job (JOURNEYBOT_NUDGE_INTERVAL_MIN, 0 off),
run by the leader only; a moved deal is DMed once across a restarted clock and two clocks."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from bot.runtime import BotRuntime
from config import Settings
from sandbox.server import SandboxServer
from sandbox.slack_api import SlackStandIn
from scheduler import clock
from scheduler.leader import Leader
from storage.deal_stage_watch import fetch_watch_state
from storage.engine import create_all, make_engine, session_scope
from storage.nudge_ledger import list_nudges
from storage.nudge_preferences import record_quiet_hours


def test_the_nudge_job_follows_the_setting(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    create_all(engine)
    settings = Settings.from_mapping({"data_dir": tmp_path})
    scheduler = clock.build_scheduler(settings, engine=engine)
    scheduler.start(paused=True)
    try:
        assert clock.sync_nudge_job(scheduler, settings) == "deal nudges every 5 min"  # the default
        job = scheduler.get_job(clock.NUDGE_JOB_ID)
        assert job.func_ref == "scheduler.clock:run_nudges" and job.trigger.interval.total_seconds() == 300
        first_run = job.next_run_time
        clock.sync_nudge_job(scheduler, settings)
        assert scheduler.get_job(clock.NUDGE_JOB_ID).next_run_time == first_run  # unchanged: kept
        clock.sync_nudge_job(scheduler, settings.model_copy(update={"nudge_interval_min": 2}))
        assert scheduler.get_job(clock.NUDGE_JOB_ID).trigger.interval.total_seconds() == 120
        assert clock.sync_nudge_job(scheduler, settings.model_copy(update={"nudge_interval_min": 0})) is None
        assert scheduler.get_job(clock.NUDGE_JOB_ID) is None
    finally:
        scheduler.shutdown(wait=False)
    engine.dispose()


def _scans_after(runtime: BotRuntime, moment: float, timeout: float = 30) -> None:
    """Wait until a scan finished after `moment` (epoch seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope(runtime.knowledge.engine) as session:
            state = fetch_watch_state(session)
            if state is not None and state.scanned_at.timestamp() > moment:
                return
        time.sleep(0.1)
    raise AssertionError("no nudge scan ran")


def test_a_moved_deal_is_dmed_once_across_a_restart_and_two_clocks(tmp_path: Path, nudges: BotRuntime,
                                                                    slack: SlackStandIn, crm: SandboxServer) -> None:
    fast = dataclasses.replace(nudges, settings=nudges.settings.model_copy(update={"nudge_interval_min": 0.01}))
    engine = fast.knowledge.engine
    jobs = make_engine(f"sqlite:///{tmp_path / 'jobs.db'}")

    def new_clock(holder: str) -> clock.Clock:
        return clock.Clock(fast, new_scheduler=lambda: clock.build_scheduler(fast.settings, engine=jobs),
                           leader=Leader(engine, name="nudge-test", holder=holder, ttl_s=60))

    first, second = new_clock("first"), new_clock("second")
    clocks = [first, second]
    try:
        assert first.tick() and not second.tick()  # two clocks: one leads
        _scans_after(fast, time.time())  # the baseline
        deal = next(d for d in crm.portal.objects["deals"].values() if d.properties.get("dealstage") == "qualifiedtobuy"
                    and d.properties.get("hubspot_owner_id"))
        owner = next(o for o in crm.portal.owners if str(o.id) == deal.properties["hubspot_owner_id"])
        slack.users_by_email[owner.email] = "U0CLOCK"
        with session_scope(engine) as session:  # the test runs at any hour: no quiet hours for this rep
            record_quiet_hours(session, "U0CLOCK", 0, 0)
        crm.update_objects("deals", [deal.id], {"dealstage": "presentationscheduled"})
        slack.wait_for(lambda calls: any(c["method"] == "chat.postMessage" for c in calls), timeout=30)
        _scans_after(fast, time.time())  # and one more after it
        assert not second.tick()

        first.stop_scheduler()  # the leader stops; the follower takes over; then "restarts" as a third clock
        first.leader.release()
        assert second.tick()
        third = new_clock("third")
        clocks.append(third)
        assert not third.tick()
        _scans_after(fast, time.time())
        _scans_after(fast, time.time())
    finally:
        for c in clocks:
            c.stop_scheduler()
            c.leader.release()
        jobs.dispose()
    dms = [c for c in slack.of("chat.postMessage") if c["params"].get("channel") == "D0CLOCK"]
    assert len(dms) == 1
    with session_scope(engine) as session:
        assert [(e.kind, e.state) for e in list_nudges(session, str(deal.id))] == [("entered", "posted")]
