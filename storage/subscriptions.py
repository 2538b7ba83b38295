"""Channel subscriptions to scheduled skills (velocity digest, churn alerts, monthly gap
audit), and the record of every scheduled run, keyed so that each (subscription, period)
posts exactly once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, Literal

from sqlalchemy import JSON, Column, UniqueConstraint, delete, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Field, Session, SQLModel, col, select

from storage.engine import insert_once
from storage.timestamps import UtcDateTime, utc_now

SubscriptionKind = Literal["digest", "churn", "gaps"]
# delayed: waiting for the CRM (retried every tick); retrying: not posted for another
# reason (retried after a growing pause, a bounded number of times); failed: for good.
RunState = Literal["running", "posting", "posted", "delayed", "retrying", "failed"]
# "running" and "posting" are held by one worker under a lease (started_at + lease_s);
# "posting" means chat.postMessage may have gone out, so a taker-over checks Slack first.
HELD_STATES = ("running", "posting")
RETRY_STATES = ("delayed", "retrying", "failed")


class Subscription(SQLModel, table=True):
    __tablename__ = "subscription"

    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(index=True, max_length=32)
    kind: str = Field(max_length=16)
    cron: str = Field(max_length=64, description="crontab: minute hour day month day-of-week")
    timezone: str = Field(default="UTC", max_length=64)
    filters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_by: str | None = Field(default=None, max_length=32)
    created_at: dt.datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    active: bool = True


class ScheduledRun(SQLModel, table=True):
    __tablename__ = "scheduled_run"
    __table_args__ = (UniqueConstraint("subscription_id", "period", name="uq_run_subscription_period"),)

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(index=True)
    period: str = Field(max_length=40)
    state: str = Field(default="running", max_length=16)
    attempts: int = 1
    started_at: dt.datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    finished_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    message_ts: str | None = Field(default=None, max_length=32)
    detail: str = ""
    delay_notice_sent: bool = False
    fire_time: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)


class SchedulerLease(SQLModel, table=True):
    """Who leads the clock process where no advisory locks exist (SQLite): one row per
    lease name, taken over only once its holder stopped renewing it."""

    __tablename__ = "scheduler_lease"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=128)
    expires_at: float = Field(description="epoch seconds; floats compare the same on every backend")


def add_subscription(
    session: Session,
    *,
    channel_id: str,
    kind: SubscriptionKind,
    cron: str,
    timezone: str = "UTC",
    filters: dict[str, Any] | None = None,
    created_by: str | None = None,
) -> Subscription:
    subscription = Subscription(
        channel_id=channel_id, kind=kind, cron=cron, timezone=timezone, filters=filters or {}, created_by=created_by
    )
    session.add(subscription)
    session.flush()
    return subscription


def reschedule_subscription(session: Session, subscription: Subscription, *, cron: str, timezone: str) -> Subscription:
    """A new crontab or zone for a subscription, keeping its id: the runs it posted stay
    its own, so a period it already posted is not posted again."""
    subscription.cron, subscription.timezone = cron, timezone
    session.add(subscription)
    session.flush()
    return subscription


def list_subscriptions(session: Session, *, channel_id: str | None = None, active_only: bool = True) -> list[Subscription]:
    query = select(Subscription).order_by(col(Subscription.id))
    if channel_id is not None:
        query = query.where(col(Subscription.channel_id) == channel_id)
    if active_only:
        query = query.where(col(Subscription.active).is_(True))
    return list(session.exec(query))


def fetch_subscription(session: Session, subscription_id: int) -> Subscription | None:
    return session.get(Subscription, subscription_id)


def deactivate_subscription(session: Session, subscription_id: int, channel_id: str | None = None) -> bool:
    subscription = session.get(Subscription, subscription_id)
    if subscription is None or not subscription.active or (channel_id and subscription.channel_id != channel_id):
        return False
    subscription.active = False
    session.add(subscription)
    session.flush()
    return True


def is_stale(run: ScheduledRun, now: dt.datetime, lease_s: float) -> bool:
    """A held run whose worker stopped renewing it (crashed) within the lease."""
    return run.state in HELD_STATES and run.started_at <= now - dt.timedelta(seconds=lease_s)


def claim_run(
    session: Session,
    subscription_id: int,
    period: str,
    *,
    fire_time: dt.datetime | None = None,
    now: dt.datetime | None = None,
    lease_s: float | None = None,
) -> ScheduledRun | None:
    """The run for (subscription, period) if this caller may work on it: a new run, a
    delayed/failed one to retry, or (with `lease_s`) one whose holder's lease ran out.
    None when it was posted already or another worker holds it. The unique key and a
    compare-and-set on (state, attempts) make the claim safe across processes; a stale
    "posting" run keeps that state so the new holder looks in Slack before posting."""
    now = now or utc_now()
    existing = session.exec(
        select(ScheduledRun).where(col(ScheduledRun.subscription_id) == subscription_id, col(ScheduledRun.period) == period)
    ).first()
    if existing is None:
        run = ScheduledRun(subscription_id=subscription_id, period=period, started_at=now, fire_time=fire_time)
        return run if insert_once(session, run) else None
    retry = existing.state in RETRY_STATES
    if not retry and not (lease_s is not None and is_stale(existing, now, lease_s)):
        return None
    new_state = "running" if retry else existing.state
    result = session.execute(
        update(ScheduledRun)
        .where(col(ScheduledRun.id) == existing.id, col(ScheduledRun.state) == existing.state,
               col(ScheduledRun.attempts) == existing.attempts)
        .values(state=new_state, attempts=existing.attempts + 1, started_at=now,
                fire_time=existing.fire_time or fire_time)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    session.refresh(existing)
    return existing


def mark_posting(session: Session, run: ScheduledRun, *, now: dt.datetime | None = None) -> bool:
    """Record that this holder is about to post (renewing its lease); False when another
    worker took the run over meanwhile, and this one must not post."""
    now = now or utc_now()
    result = session.execute(
        update(ScheduledRun)
        .where(col(ScheduledRun.id) == run.id, col(ScheduledRun.attempts) == run.attempts,
               col(ScheduledRun.state).in_(HELD_STATES))
        .values(state="posting", started_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    _mirror(run, state="posting", started_at=now)
    return True


def _mirror(run: ScheduledRun, **values: Any) -> None:
    """Reflect a compare-and-set UPDATE on `run`, attached to a session or not."""
    for key, value in values.items():
        set_committed_value(run, key, value)


def mark_delay_notice(session: Session, run: ScheduledRun) -> bool:
    """Claim the run's single "delayed" notice; False when it was sent already."""
    result = session.execute(
        update(ScheduledRun)
        .where(col(ScheduledRun.id) == run.id, col(ScheduledRun.delay_notice_sent).is_(False))
        .values(delay_notice_sent=True)
    )
    _mirror(run, delay_notice_sent=True)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def runs_to_retry(session: Session, *, now: dt.datetime | None = None, lease_s: float,
                  backoff_s: Callable[[int], float] = lambda attempts: 0.0) -> list[ScheduledRun]:
    """Delayed runs (the CRM was down), retrying runs whose backoff (by attempts so far,
    from when the last attempt ended) has passed, and stale held runs, of active
    subscriptions, oldest first."""
    now = now or utc_now()
    query = (
        select(ScheduledRun)
        .join(Subscription, col(Subscription.id) == col(ScheduledRun.subscription_id))
        .where(col(Subscription.active).is_(True), col(ScheduledRun.state).in_(("delayed", "retrying", *HELD_STATES)))
        .order_by(col(ScheduledRun.id))
    )
    return [r for r in session.exec(query)
            if r.state == "delayed" or _due_again(r, now, backoff_s) or is_stale(r, now, lease_s)]


def _due_again(run: ScheduledRun, now: dt.datetime, backoff_s: Callable[[int], float]) -> bool:
    if run.state != "retrying":
        return False
    last = run.finished_at or run.started_at
    return last + dt.timedelta(seconds=backoff_s(run.attempts)) <= now


def forget_run(session: Session, subscription_id: int, period: str) -> bool:
    """Drop a period's run record so the period can be posted again (an operator's --force)."""
    result = session.execute(delete(ScheduledRun).where(col(ScheduledRun.subscription_id) == subscription_id,
                                                        col(ScheduledRun.period) == period))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def latest_runs(session: Session, subscription_ids: Sequence[int]) -> dict[int, ScheduledRun]:
    """Each subscription's most recent run (what operators and App Home show)."""
    if not subscription_ids:
        return {}
    rows = session.exec(select(ScheduledRun).where(col(ScheduledRun.subscription_id).in_(subscription_ids))
                        .order_by(col(ScheduledRun.id)))
    return {r.subscription_id: r for r in rows}


def fetch_run(session: Session, subscription_id: int, period: str) -> ScheduledRun | None:
    return session.exec(
        select(ScheduledRun).where(col(ScheduledRun.subscription_id) == subscription_id, col(ScheduledRun.period) == period)
    ).first()


def take_lease(session: Session, name: str, holder: str, *, ttl_s: float, now: float) -> bool:
    """Take or renew lease `name` for `holder` until now + ttl_s; False while another
    holder's lease is still running."""
    expires = now + ttl_s
    result = session.execute(
        update(SchedulerLease)
        .where(col(SchedulerLease.name) == name,
               (col(SchedulerLease.holder) == holder) | (col(SchedulerLease.expires_at) < now))
        .values(holder=holder, expires_at=expires)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        return True
    if session.get(SchedulerLease, name) is not None:
        return False
    return insert_once(session, SchedulerLease(name=name, holder=holder, expires_at=expires))


def drop_lease(session: Session, name: str, holder: str) -> None:
    session.execute(delete(SchedulerLease).where(col(SchedulerLease.name) == name, col(SchedulerLease.holder) == holder))


def finish_run(session: Session, run: ScheduledRun, state: RunState, *, detail: str = "", message_ts: str | None = None) -> ScheduledRun:
    run.state = state
    run.detail = detail
    run.message_ts = message_ts or run.message_ts
    run.finished_at = utc_now()
    merged = session.merge(run)
    session.flush()
    return merged


def list_runs(session: Session, subscription_id: int) -> list[ScheduledRun]:
    query = select(ScheduledRun).where(col(ScheduledRun.subscription_id) == subscription_id).order_by(col(ScheduledRun.id))
    return list(session.exec(query))
