"""Stage-change detection for deal nudges: which deals entered a stage since the last scan,
and which have sat in their stage past 1x or 2x its target.

A scan reads only the deals the incremental CRM sync found modified since its own
watermark (`CrmGateway.deals_modified_since`), or the deals a webhook names, and compares
each deal's current stage entry with what it recorded last time (storage.deal_stage_watch).
A changed entry queues an `entered` nudge in the ledger; the ledger's unique key keeps it
to one per (deal, stage entry, kind). The first scan ever only records the baseline: it
must not nudge every open deal in the CRM. Closed deals get no nudge and no reminder.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.engine import Engine

from knowledge.models import JourneyMap
from skills.crm import CrmGateway
from skills.crm.records import Deal
from skills.stage_map import target_days_for
from storage.deal_stage_watch import (
    DealSighting,
    fetch_due_reminders,
    fetch_watch_state,
    fetch_watched_deals,
    record_sightings,
    save_watch_state,
    set_next_reminder,
)
from storage.engine import session_scope
from storage.nudge_ledger import nudge_key, record_nudge

NudgeKind = Literal["entered", "overdue_1x", "overdue_2x"]
DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class QueuedNudge:
    """A nudge owed: the deal, the stage entry it is about, and which kind."""

    deal_id: str
    stage_id: str
    entered_at: dt.datetime | None
    kind: str

    @property
    def key(self) -> str:
        return nudge_key(self.deal_id, self.stage_id, self.entered_at, self.kind)


@dataclass
class Detection:
    """What one detection pass saw; `queued` holds only nudges new to the ledger (all
    nudges it found, in a dry run)."""

    baseline: bool
    examined: int = 0
    changed: int = 0
    queued: list[QueuedNudge] = field(default_factory=list)


def next_reminder(entered_at: dt.datetime | None, target_days: float | None,
                  now: dt.datetime) -> tuple[str | None, dt.datetime | None]:
    """The next reminder not yet passed: 1x the target, else 2x, else none (a deal seen
    late is not sent reminders it is already past)."""
    if entered_at is None or not target_days:
        return None, None
    target = target_days * DAY
    if now < entered_at + target:
        return "overdue_1x", entered_at + target
    if now < entered_at + 2 * target:
        return "overdue_2x", entered_at + 2 * target
    return None, None


def sighting(journey_map: JourneyMap, deal: Deal, now: dt.datetime) -> DealSighting:
    entered = deal.entered_current_stage
    kind, due = (None, None) if deal.is_closed else next_reminder(entered, target_days_for(journey_map, deal.stage_id), now)
    return DealSighting(deal.id, deal.stage_id, entered, deal.is_closed, kind, due)


def _ms(stamp: dt.datetime | None) -> int:
    return int(stamp.timestamp() * 1000) if stamp else 0


def detect_stage_changes(engine: Engine, gateway: CrmGateway, journey_map: JourneyMap, now: dt.datetime, *,
                         deal_ids: Sequence[str] | None = None, overlap_s: float = 300.0,
                         record: bool = True) -> Detection:
    """One detection pass (see the module doc). `deal_ids`: only these deals, read by id
    (a webhook names them); None: every deal the incremental sync found modified. With
    `record=False` nothing is written (a dry run)."""
    with session_scope(engine) as session:
        state = fetch_watch_state(session)
        watermark, baseline_at = (state.watermark_ms, state.baseline_at) if state else (0, None)
    if baseline_at is None:
        deals = gateway.deals()
        if record:
            with session_scope(engine) as session:
                record_sightings(session, [sighting(journey_map, d, now) for d in deals], now=now)
                save_watch_state(session, watermark_ms=max((_ms(d.last_modified) for d in deals), default=0), now=now)
        return Detection(baseline=True, examined=len(deals))
    overlap = dt.timedelta(seconds=overlap_s)
    deals = gateway.deals_by_id(deal_ids) if deal_ids is not None else \
        gateway.deals_modified_since(watermark - int(overlap_s * 1000))
    with session_scope(engine) as session:
        known = fetch_watched_deals(session, [d.id for d in deals])
    changed: list[DealSighting] = []
    owed: list[QueuedNudge] = []
    for deal in deals:
        seen = sighting(journey_map, deal, now)
        old = known.get(deal.id)
        if old is not None and (old.stage_id, old.entered_at, old.closed) == (seen.stage_id, seen.entered_at, seen.closed):
            continue  # modified, but not in its stage: nothing to say (and its reminders stand)
        changed.append(seen)
        new_deal_before_baseline = old is None and seen.entered_at is not None and seen.entered_at < baseline_at - overlap
        if not seen.closed and not new_deal_before_baseline:
            owed.append(QueuedNudge(deal.id, seen.stage_id, seen.entered_at, "entered"))
    detection = Detection(baseline=False, examined=len(deals), changed=len(changed), queued=owed)
    if not record:
        return detection
    with session_scope(engine) as session:
        record_sightings(session, changed, now=now)
        detection.queued = [q for q in owed if record_nudge(session, deal_id=q.deal_id, stage_id=q.stage_id,
                                                           entered_at=q.entered_at, kind=q.kind, now=now)]
        if deal_ids is None:
            save_watch_state(session, watermark_ms=max([watermark] + [_ms(d.last_modified) for d in deals]), now=now)
    return detection


def queue_due_reminders(engine: Engine, now: dt.datetime, *, record: bool = True) -> list[QueuedNudge]:
    """Reminders whose time came (1x, then 2x the stage target), each queued once; a deal
    already past 2x when its 1x falls due gets only the 2x."""
    out: list[QueuedNudge] = []
    with session_scope(engine) as session:
        for row in fetch_due_reminders(session, now):
            if row.reminder_kind is None or row.reminder_due_at is None or row.entered_at is None:
                continue
            target = row.reminder_due_at - row.entered_at  # 1x the target, or 2x when 2x is due
            if row.reminder_kind == "overdue_1x" and now >= row.entered_at + 2 * target:
                kind, following = "overdue_2x", None
            elif row.reminder_kind == "overdue_1x":
                kind, following = "overdue_1x", row.entered_at + 2 * target
            else:
                kind, following = "overdue_2x", None
            queued = QueuedNudge(row.deal_id, row.stage_id, row.entered_at, kind)
            if not record:
                out.append(queued)
                continue
            if record_nudge(session, deal_id=row.deal_id, stage_id=row.stage_id, entered_at=row.entered_at, kind=kind,
                            now=now):
                out.append(queued)
            set_next_reminder(session, row.deal_id, stage_id=row.stage_id, entered_at=row.entered_at,
                              kind="overdue_2x" if following else None, due_at=following)
    return out
