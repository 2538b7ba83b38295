"""What nudge detection last saw of each deal (its stage and when it entered it) and how far
it has read the CRM snapshot, so a scan reads only the deals modified since and a deal is
nudged when its stage entry changes, not every time it is read.

The first scan ever records every deal as seen (the baseline) without nudging anyone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import BigInteger, delete
from sqlmodel import Field, Session, SQLModel, col, select

from storage.timestamps import UtcDateTime, utc_now

WATCH_NAME = "deals"


class WatchedDeal(SQLModel, table=True):
    """One deal as detection last saw it, and its next stage-target reminder (if any)."""

    __tablename__ = "nudge_watched_deal"

    deal_id: str = Field(primary_key=True, max_length=40)
    stage_id: str = Field(max_length=100)
    entered_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    closed: bool = False
    reminder_kind: str | None = Field(default=None, max_length=20)  # overdue_1x | overdue_2x | None: none due
    reminder_due_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)
    seen_at: dt.datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class StageWatchState(SQLModel, table=True):
    """How far detection has read the deal snapshot (its own watermark, not the sync's)."""

    __tablename__ = "nudge_watch_state"

    name: str = Field(primary_key=True, max_length=32)
    watermark_ms: int = Field(default=0, sa_type=BigInteger)
    baseline_at: dt.datetime = Field(sa_type=UtcDateTime)
    scanned_at: dt.datetime = Field(sa_type=UtcDateTime)


@dataclass(frozen=True, slots=True)
class DealSighting:
    """A deal's stage entry as a scan saw it, and its next reminder (plain data for the verbs)."""

    deal_id: str
    stage_id: str
    entered_at: dt.datetime | None
    closed: bool
    reminder_kind: str | None
    reminder_due_at: dt.datetime | None


def fetch_watch_state(session: Session) -> StageWatchState | None:
    return session.get(StageWatchState, WATCH_NAME)


def save_watch_state(session: Session, *, watermark_ms: int, now: dt.datetime) -> StageWatchState:
    """Advance the watermark (never backwards: two scans may finish out of order)."""
    state = session.get(StageWatchState, WATCH_NAME)
    if state is None:
        state = StageWatchState(name=WATCH_NAME, watermark_ms=watermark_ms, baseline_at=now, scanned_at=now)
    state.watermark_ms = max(state.watermark_ms, watermark_ms)
    state.scanned_at = now
    session.add(state)
    return state


def fetch_watched_deals(session: Session, deal_ids: Sequence[str]) -> dict[str, WatchedDeal]:
    wanted = list(dict.fromkeys(deal_ids))
    out: dict[str, WatchedDeal] = {}
    for start in range(0, len(wanted), 500):
        query = select(WatchedDeal).where(col(WatchedDeal.deal_id).in_(wanted[start:start + 500]))
        out.update({row.deal_id: row for row in session.exec(query)})
    return out


def record_sightings(session: Session, sightings: Sequence[DealSighting], *, now: dt.datetime) -> int:
    """Insert or replace what was seen of these deals. Returns the count."""
    known = fetch_watched_deals(session, [s.deal_id for s in sightings])
    for s in sightings:
        row = known.get(s.deal_id) or WatchedDeal(deal_id=s.deal_id, stage_id=s.stage_id)
        row.stage_id, row.entered_at, row.closed = s.stage_id, s.entered_at, s.closed
        row.reminder_kind, row.reminder_due_at, row.seen_at = s.reminder_kind, s.reminder_due_at, now
        session.add(row)
    session.flush()
    return len(sightings)


def fetch_due_reminders(session: Session, now: dt.datetime, limit: int = 1000) -> list[WatchedDeal]:
    """Open deals whose next reminder is due (oldest first)."""
    query = (select(WatchedDeal).where(col(WatchedDeal.reminder_due_at) <= now, col(WatchedDeal.closed).is_(False))
             .order_by(col(WatchedDeal.reminder_due_at)).limit(limit))
    return list(session.exec(query))


def set_next_reminder(session: Session, deal_id: str, *, stage_id: str, entered_at: dt.datetime | None,
                      kind: str | None, due_at: dt.datetime | None) -> bool:
    """Move a deal's reminder on, only while it is still in the same stage entry (False otherwise)."""
    row = session.get(WatchedDeal, deal_id)
    if row is None or row.stage_id != stage_id or row.entered_at != entered_at:
        return False
    row.reminder_kind, row.reminder_due_at = kind, due_at
    session.add(row)
    return True


def forget_watched_deals(session: Session) -> None:
    """Forget every sighting and the watermark: the next scan records a new baseline and
    nudges nobody (the demo does this, its sandbox portal being new on every run)."""
    session.execute(delete(WatchedDeal))
    session.execute(delete(StageWatchState))
