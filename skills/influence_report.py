"""The content influence report's shape and its pure build: per asset and the CRM stage it
was sent at, how the deals it went out on converted from that stage, against the deals
that entered the same stage in the same period without it. Counts travel with every rate
(3/4 beside 75%) and a comparison with too few deals on either side is marked as such,
so a small number is never read as a finding.

Converted = after entering the stage, the deal entered a later open stage of its pipeline
(by display order) or was won; a move to closed lost is not conversion.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from knowledge.models import JourneyMap
from skills.crm.records import Deal, Pipeline
from skills.stage_map import journey_stage_for


@dataclass(frozen=True)
class Send:
    """One recorded "Sent it" (storage.content_sent, as plain data)."""

    deal_id: str
    crm_stage_id: str
    stage_entered_at: dt.datetime | None
    asset_id: str


@dataclass(frozen=True)
class Rate:
    converted: int
    deals: int

    @property
    def pct(self) -> float | None:
        return None if not self.deals else round(100.0 * self.converted / self.deals, 1)

    def text(self) -> str:
        """"3/4 (75%)": the count first, so a small base shows."""
        return f"{self.converted}/{self.deals}" + (f" ({self.pct:.0f}%)" if self.pct is not None else "")

    def to_dict(self) -> dict[str, Any]:
        return {"converted": self.converted, "deals": self.deals, "pct": self.pct}


@dataclass(frozen=True)
class SentDeal:
    id: str
    name: str
    converted: bool


@dataclass(frozen=True)
class StageInfluence:
    crm_stage_id: str
    stage_label: str
    pipeline: str
    journey_stage_id: str | None
    journey_stage_name: str | None
    with_asset: Rate
    without: Rate
    comparable: bool  # both sides have at least the minimum number of deals
    deals: tuple[SentDeal, ...]  # the deals it was sent on at this stage

    @property
    def lift_points(self) -> float | None:
        """Percentage points with minus without, only where the comparison holds."""
        if not self.comparable or self.with_asset.pct is None or self.without.pct is None:
            return None
        return round(self.with_asset.pct - self.without.pct, 1)

    def comparison(self, min_deals: int) -> str:
        """"3/4 (75%) vs 10/40 (25%) without, +50 pts", or why it is not compared."""
        line = f"{self.with_asset.text()} converted vs {self.without.text()} without"
        lift = self.lift_points
        if lift is not None:
            return f"{line}, {lift:+.0f} pts"
        return f"{line}; too few to compare (under {min_deals} deals on a side)"

    def to_dict(self) -> dict[str, Any]:
        return {"crm_stage_id": self.crm_stage_id, "stage": self.stage_label, "pipeline": self.pipeline,
                "journey_stage_id": self.journey_stage_id, "journey_stage": self.journey_stage_name,
                "with_asset": self.with_asset.to_dict(), "without": self.without.to_dict(),
                "comparable": self.comparable, "lift_points": self.lift_points,
                "deals": [asdict(d) for d in self.deals]}


@dataclass(frozen=True)
class AssetInfluence:
    asset_id: str
    title: str
    url: str | None
    stages: tuple[StageInfluence, ...]

    @property
    def deals_sent(self) -> int:
        return sum(s.with_asset.deals for s in self.stages)

    def to_dict(self) -> dict[str, Any]:
        return {"asset_id": self.asset_id, "title": self.title, "url": self.url, "deals_sent": self.deals_sent,
                "stages": [s.to_dict() for s in self.stages]}


@dataclass(frozen=True)
class InfluenceReport:
    generated_at: dt.datetime
    since: dt.datetime
    days: int
    min_deals: int
    sends: int  # sends recorded for a stage entry in the period
    assets: tuple[AssetInfluence, ...]  # most deals sent on first
    unmatched_sends: int = 0  # sends on deals the CRM no longer lists, or with no known stage entry
    kind: str = "influence"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "generated_at": self.generated_at.isoformat(), "since": self.since.isoformat(),
                "days": self.days, "min_deals": self.min_deals, "sends": self.sends,
                "unmatched_sends": self.unmatched_sends, "assets": [a.to_dict() for a in self.assets]}


def converted_from(deal: Deal, stage_id: str, entered: dt.datetime, pipeline: Pipeline | None) -> bool:
    """Did the deal move on from `stage_id` (entered at `entered`): a later open stage, or won."""
    if deal.is_won:
        return True
    if pipeline is None:
        return False
    current = pipeline.stage(stage_id)
    if current is None:
        return False
    later = {s.id for s in pipeline.stages if s.display_order > current.display_order and (s.is_won or not s.is_closed)}
    return any(t.stage_id in later and t.entered_at is not None and t.entered_at >= entered for t in deal.stage_times)


def build_influence(sends: Sequence[Send], deals: Sequence[Deal], pipelines: Sequence[Pipeline],
                    journey_map: JourneyMap, *, now: dt.datetime, days: int, min_deals: int) -> InfluenceReport:
    since = now - dt.timedelta(days=days)
    by_id = {d.id: d for d in deals}
    pipes = {p.id: p for p in pipelines}
    assets = {a.id: a for a in journey_map.assets}
    # (asset, stage) -> deal id -> the entry the asset went out at
    sent: dict[tuple[str, str], dict[str, dt.datetime]] = {}
    unmatched = counted = 0
    for s in sends:
        deal = by_id.get(s.deal_id)
        entered = s.stage_entered_at or (deal.entered(s.crm_stage_id) if deal else None)
        if deal is None or entered is None:
            unmatched += 1
            continue
        if not since <= entered <= now:
            continue
        counted += 1
        sent.setdefault((s.asset_id, s.crm_stage_id), {}).setdefault(deal.id, entered)
    rows: dict[str, list[StageInfluence]] = {}
    for (asset_id, stage_id), on in sent.items():
        rows.setdefault(asset_id, []).append(
            _stage_row(stage_id, on, deals, by_id, pipes, journey_map, since, now, min_deals))
    out = [AssetInfluence(a, assets[a].title if a in assets else a, str(assets[a].url) if a in assets else None,
                          tuple(sorted(stages, key=lambda s: (-s.with_asset.deals, s.crm_stage_id))))
           for a, stages in rows.items()]
    out.sort(key=lambda a: (-a.deals_sent, a.title))
    return InfluenceReport(now, since, days, min_deals, counted, tuple(out), unmatched)


def _stage_row(stage_id: str, on: dict[str, dt.datetime], deals: Sequence[Deal], by_id: dict[str, Deal],
               pipes: dict[str, Pipeline], journey_map: JourneyMap, since: dt.datetime, now: dt.datetime,
               min_deals: int) -> StageInfluence:
    sent_deals = [SentDeal(d, by_id[d].name, converted_from(by_id[d], stage_id, e, pipes.get(by_id[d].pipeline_id)))
                  for d, e in on.items()]
    others = [(d, d.entered(stage_id)) for d in deals if d.id not in on]
    baseline = [converted_from(d, stage_id, e, pipes.get(d.pipeline_id))
                for d, e in others if e is not None and since <= e <= now]
    with_asset = Rate(sum(1 for d in sent_deals if d.converted), len(sent_deals))
    without = Rate(sum(baseline), len(baseline))
    pipeline = next((p for p in pipes.values() if p.stage(stage_id)), None)
    label = (pipeline.stage(stage_id).label if pipeline and pipeline.stage(stage_id) else stage_id)  # type: ignore[union-attr]
    journey = journey_stage_for(journey_map, stage_id)
    return StageInfluence(stage_id, label, pipeline.label if pipeline else "", journey.id if journey else None,
                          journey.name if journey else None, with_asset, without,
                          with_asset.deals >= min_deals and without.deals >= min_deals,
                          tuple(sorted(sent_deals, key=lambda d: d.name)))
