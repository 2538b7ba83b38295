"""What the Slack bot keeps: per-channel configuration, received event ids (so retries
and duplicate deliveries never answer twice) and thread context for follow-ups."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column, delete
from sqlmodel import Field, Session, SQLModel, col

from storage.engine import insert_once
from storage.timestamps import UtcDateTime, utc_now


class ChannelConfig(SQLModel, table=True):
    __tablename__ = "slack_channel_config"

    channel_id: str = Field(primary_key=True, max_length=32)
    allowed_skills: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    ephemeral: bool = True
    crm_allowed: bool = False
    updated_by: str | None = Field(default=None, max_length=32)
    updated_at: dt.datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class EventReceipt(SQLModel, table=True):
    __tablename__ = "slack_event_receipt"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: dt.datetime = Field(default_factory=utc_now, index=True, sa_type=UtcDateTime)


class ThreadContext(SQLModel, table=True):
    __tablename__ = "slack_thread_context"

    channel_id: str = Field(primary_key=True, max_length=32)
    thread_ts: str = Field(primary_key=True, max_length=32)
    stage_id: str | None = Field(default=None, max_length=64)
    persona_id: str | None = Field(default=None, max_length=64)
    account: str | None = Field(default=None, max_length=200)  # the company's CRM id
    deal: str | None = Field(default=None, max_length=200)  # the deal's CRM id
    updated_at: dt.datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


def fetch_channel_config(session: Session, channel_id: str) -> ChannelConfig:
    """The stored configuration, or the defaults for a channel never configured."""
    return session.get(ChannelConfig, channel_id) or ChannelConfig(channel_id=channel_id)


def save_channel_config(session: Session, config: ChannelConfig, *, user_id: str | None) -> ChannelConfig:
    config.updated_by = user_id
    config.updated_at = utc_now()
    merged = session.merge(config)
    session.flush()
    return merged


def claim_event(session: Session, event_id: str) -> bool:
    """True the first time an event id is seen, False for every retry or duplicate. The
    primary key makes this safe across processes."""
    return insert_once(session, EventReceipt(event_id=event_id))


def release_event(session: Session, event_id: str) -> None:
    """Forget a claim whose work could not be queued, so Slack's retry is taken."""
    session.execute(delete(EventReceipt).where(col(EventReceipt.event_id) == event_id))


def prune_events(session: Session, older_than: dt.datetime) -> int:
    result = session.execute(delete(EventReceipt).where(col(EventReceipt.received_at) < older_than))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def fetch_thread_context(session: Session, channel_id: str, thread_ts: str) -> ThreadContext | None:
    return session.get(ThreadContext, (channel_id, thread_ts))


def save_thread_context(
    session: Session,
    channel_id: str,
    thread_ts: str,
    *,
    stage_id: str | None = None,
    persona_id: str | None = None,
    account: str | None = None,
    deal: str | None = None,
) -> ThreadContext:
    """Remember what a thread is about; values not given keep what was known."""
    context = session.get(ThreadContext, (channel_id, thread_ts)) or ThreadContext(channel_id=channel_id, thread_ts=thread_ts)
    context.stage_id = stage_id or context.stage_id
    context.persona_id = persona_id or context.persona_id
    context.account = account or context.account
    context.deal = deal or context.deal
    context.updated_at = utc_now()
    session.add(context)
    session.flush()
    return context


