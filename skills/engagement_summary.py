"""How much activity an account has had: counts by window and type, recency and trend,
across the company and all its contacts (skills/crm/activity.py says what counts)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from skills.crm.activity import ENGAGEMENT_TYPES
from skills.crm.records import Engagement

DAY = dt.timedelta(days=1)


@dataclass
class TypeCount:
    type: str
    last_30: int
    last_90: int
    total: int


@dataclass
class EngagementSummary:
    """Activity across the company and all its contacts; future-dated tasks are not
    engagement yet (counted in `upcoming_tasks`), undated records only in `total`."""

    last_30: int
    previous_30: int
    last_90: int
    total: int
    by_type: list[TypeCount]
    last_engagement_at: str | None
    days_since_last: float | None
    trend: str  # "up", "down", "flat" (last 30 days vs the 30 before) or "none"
    upcoming_tasks: int


def summarize_engagement(engagements: Sequence[Engagement], now: dt.datetime) -> EngagementSummary:
    past = [e for e in engagements if e.timestamp is not None and e.timestamp <= now]
    ages = {e.id: (now - e.timestamp).total_seconds() / 86_400 for e in past if e.timestamp}

    def within(items: Sequence[Engagement], low: float, high: float) -> int:
        return sum(1 for e in items if low <= ages[e.id] < high)

    by_type = [TypeCount(t, within([e for e in past if e.type == t], 0, 30),
                         within([e for e in past if e.type == t], 0, 90), sum(1 for e in engagements if e.type == t))
               for t in ENGAGEMENT_TYPES]
    last, previous = within(past, 0, 30), within(past, 30, 60)
    latest = max((e.timestamp for e in past if e.timestamp), default=None)
    trend = "none" if last == previous == 0 else "up" if last > previous else "down" if last < previous else "flat"
    return EngagementSummary(
        last, previous, within(past, 0, 90), len(engagements), by_type, latest.isoformat() if latest else None,
        round((now - latest) / DAY, 1) if latest else None, trend,
        sum(1 for e in engagements if e.type == "tasks" and e.timestamp is not None and e.timestamp > now))
