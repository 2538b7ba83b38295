"""The nudge ledger: one row per (deal, stage entry, kind), the unique `nudge_key`, so a
nudge is DMed at most once however many scans, clocks or restarts see the same move.

A row is queued ("pending"), claimed before posting (a compare-and-set on state and
attempts, so two processes never both hold it), marked "posting" with the DM channel just
before chat.postMessage and "posted" after. A claim left unfinished past the lease (the
process died) is taken over; a "posting" one is looked for in the DM first (the key rides
on the message as metadata). "deferred" waits until `retry_at` (a rep's quiet hours).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import ColumnElement, and_, or_, update
from sqlmodel import Field, Session, SQLModel, col, func, select

from storage.engine import insert_once
from storage.timestamps import UtcDateTime, utc_now

NudgeState = Literal["pending", "claimed", "posting", "posted", "deferred", "skipped", "undeliverable", "failed"]
FINAL_STATES = ("posted", "skipped", "undeliverable", "failed")


class NudgeEntry(SQLModel, table=True):
    __tablename__ = "nudge_ledger"

    id: int | None = Field(default=None, primary_key=True)
    nudge_key: str = Field(max_length=200, unique=True)
    deal_id: str = Field(max_length=40, index=True)
    stage_id: str = Field(max_length=100)
    entered_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    kind: str = Field(max_length=20)  # entered | overdue_1x | overdue_2x
    state: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    created_at: dt.datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    claimed_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    retry_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    posted_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)
    slack_user_id: str | None = Field(default=None, max_length=32, index=True)
    channel_id: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    detail: str = Field(default="", max_length=300)


def nudge_key(deal_id: str, stage_id: str, entered_at: dt.datetime | None, kind: str) -> str:
    """The exactly-once key: one nudge per deal, stage entry and kind."""
    entered = str(int(entered_at.timestamp() * 1000)) if entered_at else "unknown"
    return f"{deal_id}:{stage_id}:{entered}:{kind}"


def record_nudge(session: Session, *, deal_id: str, stage_id: str, entered_at: dt.datetime | None, kind: str,
                 now: dt.datetime | None = None) -> bool:
    """Queue a nudge; False when its key is in the ledger already (seen by another scan)."""
    key = nudge_key(deal_id, stage_id, entered_at, kind)
    if session.exec(select(NudgeEntry.id).where(col(NudgeEntry.nudge_key) == key)).first() is not None:
        return False
    return insert_once(session, NudgeEntry(nudge_key=key, deal_id=deal_id, stage_id=stage_id, entered_at=entered_at,
                                           kind=kind, created_at=now or utc_now()))


def fetch_nudge(session: Session, key: str) -> NudgeEntry | None:
    return session.exec(select(NudgeEntry).where(col(NudgeEntry.nudge_key) == key)).first()


def nudges_to_send(session: Session, *, now: dt.datetime, lease_s: float, limit: int = 500) -> list[NudgeEntry]:
    """Pending nudges, deferred ones whose time came, and claims abandoned past the lease."""
    stale = now - dt.timedelta(seconds=lease_s)
    query = select(NudgeEntry).where(or_(
        col(NudgeEntry.state) == "pending",
        (col(NudgeEntry.state) == "deferred") & (col(NudgeEntry.retry_at) <= now),
        col(NudgeEntry.state).in_(("claimed", "posting")) & (col(NudgeEntry.claimed_at) < stale),
    )).order_by(col(NudgeEntry.id)).limit(limit)
    return list(session.exec(query))


def claim_nudge(session: Session, entry: NudgeEntry, *, now: dt.datetime) -> NudgeEntry | None:
    """This caller's hold on the nudge, or None when another took it first. A stale
    "posting" claim keeps that state, so the new holder looks in the DM before posting."""
    new_state = "posting" if entry.state == "posting" else "claimed"
    result = session.execute(
        update(NudgeEntry)
        .where(col(NudgeEntry.id) == entry.id, col(NudgeEntry.state) == entry.state,
               col(NudgeEntry.attempts) == entry.attempts)
        .values(state=new_state, attempts=entry.attempts + 1, claimed_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    query = select(NudgeEntry).where(col(NudgeEntry.id) == entry.id).execution_options(populate_existing=True)
    return session.exec(query).one()


def _held(entry: NudgeEntry) -> ColumnElement[bool]:
    """Still this holder's: same row, same attempt, still claimed."""
    return and_(col(NudgeEntry.id) == entry.id, col(NudgeEntry.attempts) == entry.attempts,
                col(NudgeEntry.state).in_(("claimed", "posting")))


def mark_nudge_posting(session: Session, entry: NudgeEntry, *, channel_id: str, slack_user_id: str,
                       now: dt.datetime) -> bool:
    """About to post (renewing the claim); False when another process took it over."""
    result = session.execute(update(NudgeEntry).where(_held(entry)).values(
        state="posting", channel_id=channel_id, slack_user_id=slack_user_id, claimed_at=now))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def finish_nudge(session: Session, entry: NudgeEntry, state: NudgeState, *, now: dt.datetime, detail: str = "",
                 message_ts: str | None = None, retry_at: dt.datetime | None = None,
                 slack_user_id: str | None = None) -> bool:
    """Record how the claim ended (only while this caller still holds it)."""
    values: dict[str, object] = {"state": state, "detail": detail[:300], "retry_at": retry_at}
    if state == "posted":
        values.update(posted_at=now, message_ts=message_ts)
    if slack_user_id is not None:
        values["slack_user_id"] = slack_user_id
    result = session.execute(update(NudgeEntry).where(_held(entry)).values(**values))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def count_sent_since(session: Session, slack_user_id: str, since: dt.datetime) -> int:
    """Nudges DMed to this user since `since` (the gate's daily cap)."""
    query = select(func.count()).select_from(NudgeEntry).where(
        col(NudgeEntry.slack_user_id) == slack_user_id, col(NudgeEntry.state) == "posted",
        col(NudgeEntry.posted_at) >= since)
    return int(session.exec(query).one())


def list_nudges(session: Session, deal_id: str | None = None) -> list[NudgeEntry]:
    query = select(NudgeEntry).order_by(col(NudgeEntry.id))
    if deal_id is not None:
        query = query.where(col(NudgeEntry.deal_id) == deal_id)
    return list(session.exec(query))
