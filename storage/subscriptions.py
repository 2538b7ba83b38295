"""Channel subscriptions to scheduled skills (velocity digest, churn alerts, monthly gap
audit), and the record of every scheduled run, keyed so that each (subscription, period)
posts exactly once."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

SubscriptionKind = Literal["digest", "churn", "gaps"]
RunState = Literal["running", "posted", "delayed", "failed"]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Subscription(SQLModel, table=True):
    __tablename__ = "subscription"

    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(index=True, max_length=32)
    kind: str = Field(max_length=16)
    cron: str = Field(max_length=64, description="crontab: minute hour day month day-of-week")
    timezone: str = Field(default="UTC", max_length=64)
    filters: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_by: str | None = Field(default=None, max_length=32)
    created_at: dt.datetime = Field(default_factory=_now)
    active: bool = True


class ScheduledRun(SQLModel, table=True):
    __tablename__ = "scheduled_run"
    __table_args__ = (UniqueConstraint("subscription_id", "period", name="uq_run_subscription_period"),)

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(index=True)
    period: str = Field(max_length=40)
    state: str = Field(default="running", max_length=16)
    attempts: int = 1
    started_at: dt.datetime = Field(default_factory=_now)
    finished_at: dt.datetime | None = None
    message_ts: str | None = Field(default=None, max_length=32)
    detail: str = ""
    delay_notice_sent: bool = False


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


def claim_run(session: Session, subscription_id: int, period: str) -> ScheduledRun | None:
    """The run for (subscription, period) if this caller may work on it: a new run, or a
    delayed/failed one to retry. None when it was posted already or another worker holds
    it. The unique key makes the claim safe across processes."""
    existing = session.exec(
        select(ScheduledRun).where(col(ScheduledRun.subscription_id) == subscription_id, col(ScheduledRun.period) == period)
    ).first()
    if existing is None:
        run = ScheduledRun(subscription_id=subscription_id, period=period)
        try:
            with session.begin_nested():
                session.add(run)
                session.flush()
        except IntegrityError:
            return None
        return run
    if existing.state in ("delayed", "failed"):
        existing.state = "running"
        existing.attempts += 1
        session.add(existing)
        session.flush()
        return existing
    return None


def finish_run(session: Session, run: ScheduledRun, state: RunState, *, detail: str = "", message_ts: str | None = None) -> ScheduledRun:
    run.state = state
    run.detail = detail
    run.message_ts = message_ts or run.message_ts
    run.finished_at = _now()
    merged = session.merge(run)
    session.flush()
    return merged


def list_runs(session: Session, subscription_id: int) -> list[ScheduledRun]:
    return list(session.exec(select(ScheduledRun).where(col(ScheduledRun.subscription_id) == subscription_id).order_by(col(ScheduledRun.id))))
