"""The clock process: APScheduler 3 with its jobs in the database, one cron job per
active subscription, kept in step with the subscription table, plus retries of delayed
runs and an interval job scanning for deal nudges; only the leader (scheduler.leader) schedules anything.

Jobs are stored as "module:function" references with plain kwargs, so any clock process
(after a restart, or a follower that became leader) can load and run them.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from bot.nudge_delivery import NudgeScanReport, run_nudge_scan
from bot.nudge_gate import preference_gate
from config import Settings
from scheduler.leader import Leader
from scheduler.periods import last_fire_time, trigger
from scheduler.runs import RunDeps, RunOutcome, execute, retry_backoff_s
from storage.engine import make_engine, session_scope
from storage.result_store import RESULT_TTL, prune_results
from storage.slack_state import prune_events
from storage.subscriptions import fetch_subscription, list_subscriptions, runs_to_retry
from storage.timestamps import utc_now

log = logging.getLogger(__name__)
EVENT_RECEIPT_TTL = dt.timedelta(days=7)

JOB_TABLE = "apscheduler_jobs"
JOB_PREFIX = "sub-"
JOB_FUNC = "scheduler.clock:run_subscription"
NUDGE_JOB_ID = "nudges"
NUDGE_JOB_FUNC = "scheduler.clock:run_nudges"

_deps: RunDeps | None = None


def install(deps: RunDeps) -> None:
    """Give stored jobs (which carry only a subscription id) what they run with."""
    global _deps
    _deps = deps


def _installed() -> RunDeps:
    if _deps is None:
        raise RuntimeError("scheduler.clock.install(runtime) was not called in this process")
    return _deps


def job_id(subscription_id: int) -> str:
    return f"{JOB_PREFIX}{subscription_id}"


def build_scheduler(settings: Settings, *, engine: Engine | None = None) -> BackgroundScheduler:
    """A scheduler whose jobs live in the database (table `apscheduler_jobs`); a digest
    missed while no clock ran goes out once (coalesce) within the misfire grace."""
    store = SQLAlchemyJobStore(engine=engine or make_engine(settings.database_url), tablename=JOB_TABLE)
    return BackgroundScheduler(
        jobstores={"default": store},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": settings.scheduler_misfire_grace_s},
        timezone=dt.UTC,
    )


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    rescheduled: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def sync_jobs(scheduler: BaseScheduler, engine: Engine) -> SyncReport:
    """Make the job store match the active subscriptions: add new ones, reschedule changed
    crontabs or zones, remove cancelled ones. The job name carries the schedule, so an
    unchanged job keeps its next run time (and any misfire waiting to be caught up)."""
    with session_scope(engine) as session:
        wanted = {job_id(s.id): (s.id, s.cron, s.timezone, s.kind, s.created_at)
                  for s in list_subscriptions(session) if s.id is not None}
    report = SyncReport()
    now = utc_now()
    existing = {job.id: job for job in scheduler.get_jobs() if job.id.startswith(JOB_PREFIX)}
    for jid, (sid, cron, timezone, kind, created_at) in wanted.items():
        name = f"{kind} {cron} {timezone}"
        job = existing.get(jid)
        if job is not None and job.name == name:
            continue
        try:
            cron_trigger = trigger(cron, timezone)
        except (ValueError, KeyError) as exc:
            log.warning("subscription %s has a bad schedule %r %s: %s", sid, cron, timezone, exc)
            continue
        extra: dict[str, Any] = {}
        if job is None and _missed_since_created(cron, timezone, created_at, now):
            extra["next_run_time"] = now  # its first fire time passed before this sync saw it: run it now
        scheduler.add_job(JOB_FUNC, cron_trigger, id=jid, name=name, kwargs={"subscription_id": sid},
                          replace_existing=True, **extra)
        (report.rescheduled if job is not None else report.added).append(jid)
    for jid in existing.keys() - wanted.keys():
        scheduler.remove_job(jid)
        report.removed.append(jid)
    return report


def sync_nudge_job(scheduler: BaseScheduler, settings: Settings) -> str | None:
    """One interval job scanning for deal nudges every `nudge_interval_min` minutes (none
    at 0); its name carries the interval, so an unchanged job keeps its next run time.
    Returns the job's name, or None when nudges are off."""
    minutes = settings.nudge_interval_min
    job = scheduler.get_job(NUDGE_JOB_ID)
    if minutes <= 0:
        if job is not None:
            scheduler.remove_job(NUDGE_JOB_ID)
        return None
    name = f"deal nudges every {minutes:g} min"
    if job is None or job.name != name:
        scheduler.add_job(NUDGE_JOB_FUNC, IntervalTrigger(seconds=minutes * 60, timezone=dt.UTC), id=NUDGE_JOB_ID,
                          name=name, replace_existing=True, next_run_time=utc_now())
    return name


def run_nudges() -> NudgeScanReport:
    """The nudge job's entry point: one scan (detect, remind, DM) with this process's runtime."""
    deps = _installed()
    report = run_nudge_scan(deps, gate=preference_gate(deps))
    log.info("nudge scan: examined %s deals, %s changed, %s queued, %s posted%s", report.examined, report.changed,
             len(report.queued), report.count("posted"), f" ({report.crm_problem})" if report.crm_problem else "")
    return report


def _missed_since_created(cron: str, timezone: str, created_at: dt.datetime, now: dt.datetime) -> bool:
    """A fire time fell between the subscription's creation and now (the clock reads
    subscriptions once a tick): that period is still owed."""
    fire = last_fire_time(cron, timezone, now)
    return fire is not None and fire >= created_at


def run_subscription(subscription_id: int) -> RunOutcome | None:
    """The stored jobs' entry point: run the latest due fire time of the subscription
    (late when coalescing a misfire, yet keyed to the period it was due in)."""
    deps = _installed()
    now = utc_now()
    with session_scope(deps.knowledge.engine) as session:
        subscription = fetch_subscription(session, subscription_id)
        if subscription is None or not subscription.active:
            return None
        fire_time = last_fire_time(subscription.cron, subscription.timezone, now)
    if fire_time is None:
        return None
    outcome = execute(deps, subscription_id, fire_time)
    log.info("subscription %s %s: %s %s", subscription_id, outcome.period, outcome.status, outcome.detail)
    return outcome


def retry_due(deps: RunDeps, *, now: dt.datetime | None = None, lease_s: float | None = None) -> list[RunOutcome]:
    """Run again every delayed run and every run whose worker died (stale lease)."""
    lease = float(deps.settings.scheduler_lease_s if lease_s is None else lease_s)
    with session_scope(deps.knowledge.engine) as session:
        due = [(r.subscription_id, r.fire_time)
               for r in runs_to_retry(session, now=now, lease_s=lease, backoff_s=retry_backoff_s)]
    return [execute(deps, sid, fire, now=now, lease_s=lease) for sid, fire in due if fire is not None]


class Clock:
    """The clock process's loop: every `tick_s`, take or renew the leader lease; the
    leader runs a scheduler, syncs jobs and retries delayed runs. A follower runs no
    scheduler at all: APScheduler processes due jobs once more while shutting down, even
    when paused, so a paused follower could consume the leader's due runs."""

    def __init__(self, deps: RunDeps, *, new_scheduler: Callable[[], BackgroundScheduler] | None = None,
                 leader: Leader | None = None, tick_s: float = 60.0) -> None:
        self.deps = deps
        self.engine = deps.knowledge.engine
        self.new_scheduler = new_scheduler or (lambda: build_scheduler(deps.settings, engine=self.engine))
        self.scheduler: BackgroundScheduler | None = None
        self.leader = leader or Leader(self.engine, ttl_s=max(3 * tick_s, 30.0))
        self.tick_s = tick_s
        self._waiting = False

    def tick(self) -> bool:
        """One round; True when this process leads."""
        if not self.leader.acquire():
            if self.scheduler is not None:
                log.warning("clock %s lost the leader lease; stopping its scheduler", self.leader.holder)
                self.stop_scheduler()
            if not self._waiting:  # said once: a follower is normal, not an error
                log.warning("clock %s waits: another clock leads; this one takes over if it stops", self.leader.holder)
            self._waiting = True
            return False
        self._waiting = False
        install(self.deps)
        if self.scheduler is None:
            log.warning("clock %s is the leader", self.leader.holder)
            self.scheduler = self.new_scheduler()
            self.scheduler.start(paused=True)  # jobs in step first, then missed runs catch up
            sync_jobs(self.scheduler, self.engine)
            sync_nudge_job(self.scheduler, self.deps.settings)
            self.scheduler.resume()
        else:
            sync_jobs(self.scheduler, self.engine)
            sync_nudge_job(self.scheduler, self.deps.settings)
        retry_due(self.deps)
        now = utc_now()
        with session_scope(self.engine) as session:  # Slack retries come within minutes; a week is plenty
            prune_events(session, now - EVENT_RECEIPT_TTL)
            prune_results(session, now - RESULT_TTL)  # kept runs behind Show more / Share
        return True

    def stop_scheduler(self) -> None:
        if self.scheduler is not None:
            if self.scheduler.state != STATE_STOPPED:
                self.scheduler.shutdown(wait=False)
            self.scheduler = None

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    self.tick()
                except Exception:  # noqa: BLE001 - keep the clock alive; the next tick retries
                    log.exception("clock tick failed")
                stop.wait(self.tick_s)
        finally:
            self.stop_scheduler()
            self.leader.release()
