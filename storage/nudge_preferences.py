"""Each rep's own nudge settings, keyed by Slack user id: on or off, quiet hours (local wall
clock, minutes after midnight; start == end means none) and a daily cap of their own.

A user who never changed anything has no row: `fetch_nudge_preference` hands back the
defaults, so the defaults can change without rewriting rows."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, Session, SQLModel

from storage.engine import insert_once
from storage.timestamps import UtcDateTime, utc_now

DEFAULT_QUIET_START = 19 * 60  # 19:00 local
DEFAULT_QUIET_END = 8 * 60  # 08:00 local
MINUTES_PER_DAY = 24 * 60


class NudgePreference(SQLModel, table=True):
    __tablename__ = "nudge_preference"

    slack_user_id: str = Field(primary_key=True, max_length=32)
    enabled: bool = True
    quiet_start: int = DEFAULT_QUIET_START
    quiet_end: int = DEFAULT_QUIET_END
    daily_cap: int | None = None  # None: the workspace's cap
    updated_at: dt.datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


def fetch_nudge_preference(session: Session, slack_user_id: str) -> NudgePreference:
    """The stored settings, or the defaults for a user who never changed any (not saved)."""
    return session.get(NudgePreference, slack_user_id) or NudgePreference(slack_user_id=slack_user_id)


def record_nudges_enabled(session: Session, slack_user_id: str, enabled: bool) -> NudgePreference:
    return _save(session, slack_user_id, enabled=enabled)


def record_quiet_hours(session: Session, slack_user_id: str, start_minute: int, end_minute: int) -> NudgePreference:
    """Quiet from `start_minute` to `end_minute` (local, may wrap midnight); equal: none."""
    for minute in (start_minute, end_minute):
        if not 0 <= minute < MINUTES_PER_DAY:
            raise ValueError(f"minute of the day out of range: {minute}")
    return _save(session, slack_user_id, quiet_start=start_minute, quiet_end=end_minute)


def record_daily_cap(session: Session, slack_user_id: str, cap: int | None) -> NudgePreference:
    """The user's own cap; None goes back to the workspace's."""
    if cap is not None and cap < 0:
        raise ValueError(f"a daily cap cannot be negative: {cap}")
    return _save(session, slack_user_id, daily_cap=cap, cap_given=True)


def _save(session: Session, slack_user_id: str, *, enabled: bool | None = None, quiet_start: int | None = None,
          quiet_end: int | None = None, daily_cap: int | None = None, cap_given: bool = False) -> NudgePreference:
    """Change only the fields given. The row is created once (a second process creating it
    at the same moment loses the insert, not its change) and then locked while changed."""
    row = session.get(NudgePreference, slack_user_id, with_for_update=True)
    if row is None:
        insert_once(session, NudgePreference(slack_user_id=slack_user_id))  # or another process just did
        row = session.get(NudgePreference, slack_user_id, with_for_update=True, populate_existing=True)
        assert row is not None
    if enabled is not None:
        row.enabled = enabled
    if quiet_start is not None and quiet_end is not None:
        row.quiet_start, row.quiet_end = quiet_start, quiet_end
    if cap_given:
        row.daily_cap = daily_cap
    row.updated_at = utc_now()
    session.add(row)
    session.flush()
    return row
