"""The velocity report's figures: windows, per-stage and per-pipeline totals, stalled
deals, each with its JSON shape (docs/cli.md). Kept apart from the computation so that
renderers, the chart and the digest read the report without the skill's machinery.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from pathlib import Path


def rnd(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def delta(current: float | None, previous: float | None) -> float | None:
    return None if current is None or previous is None else current - previous


@dataclass(frozen=True)
class Window:
    """A half-open UTC week [start, end)."""

    start: dt.datetime
    end: dt.datetime

    def shifted(self, weeks: int) -> Window:
        step = (self.end - self.start) * weeks
        return Window(self.start + step, self.end + step)

    @property
    def label(self) -> str:
        year, week, _ = self.start.isocalendar()
        return f"{year}-W{week:02d}"

    def to_dict(self) -> dict[str, object]:
        return {"label": self.label, "start": self.start.date().isoformat(), "end": self.end.date().isoformat()}


@dataclass(frozen=True)
class DaysStat:
    count: int
    median: float | None
    mean: float | None

    @classmethod
    def of(cls, values: list[float]) -> DaysStat:
        if not values:
            return cls(0, None, None)
        return cls(len(values), statistics.median(values), statistics.fmean(values))

    def to_dict(self) -> dict[str, object]:
        return {"count": self.count, "median": rnd(self.median, 1), "mean": rnd(self.mean, 1)}


@dataclass(frozen=True)
class Metric:
    """One headline figure with last week's value and the change."""

    value: float | None
    previous: float | None
    digits: int = 0

    @property
    def delta(self) -> float | None:
        return delta(self.value, self.previous)

    def to_dict(self) -> dict[str, object]:
        def shown(x: float | None) -> float | int | None:
            return rnd(x, self.digits) if self.digits else (None if x is None else int(round(x)))
        return {"value": shown(self.value), "previous": shown(self.previous), "delta": shown(self.delta)}


@dataclass(frozen=True)
class Conversion:
    entered: int
    advanced: int
    lost: int
    open: int

    @property
    def rate(self) -> float | None:
        return self.advanced / self.entered if self.entered else None

    def to_dict(self) -> dict[str, object]:
        return {"entered": self.entered, "advanced": self.advanced, "lost": self.lost, "open": self.open,
                "rate": rnd(self.rate, 3)}


@dataclass(frozen=True)
class StageVelocity:
    stage_id: str
    label: str
    target_days: float | None
    next_label: str | None  # the next stage in pipeline order (what "advanced" mostly means)
    days: DaysStat
    previous_days: DaysStat
    conversion: Conversion
    previous_conversion: Conversion

    def to_dict(self) -> dict[str, object]:
        return {"id": self.stage_id, "label": self.label, "target_days": self.target_days, "next": self.next_label,
                "days_in_stage": self.days.to_dict(), "previous_days_in_stage": self.previous_days.to_dict(),
                "median_days_delta": rnd(delta(self.days.median, self.previous_days.median), 1),
                "conversion": self.conversion.to_dict(), "previous_conversion": self.previous_conversion.to_dict(),
                "conversion_rate_delta": rnd(delta(self.conversion.rate, self.previous_conversion.rate), 3)}


@dataclass(frozen=True)
class PeriodTotals:
    """Pipeline-level figures for one window."""

    closed: int
    won: int
    won_amount: float
    cycle: DaysStat
    created: int
    created_amount: float
    stalled: int  # open deals over target at the window's end
    lost: int = 0  # closed lost in the window (closed - won)
    lost_amount: float = 0.0
    stalled_amount: float = 0.0  # amount of those stalled at the window's end

    @property
    def win_rate(self) -> float | None:
        return self.won / self.closed if self.closed else None


@dataclass(frozen=True)
class StalledDeal:
    deal_id: str
    name: str
    stage_id: str
    stage_label: str
    days: float
    target_days: float
    owner_id: str | None
    owner_name: str
    amount: float | None = None

    @property
    def ratio(self) -> float:
        return self.days / self.target_days

    def to_dict(self) -> dict[str, object]:
        return {"deal_id": self.deal_id, "name": self.name, "stage_id": self.stage_id, "stage": self.stage_label,
                "days": rnd(self.days, 1), "target_days": self.target_days, "ratio": rnd(self.ratio, 2),
                "owner_id": self.owner_id, "owner": self.owner_name, "amount": rnd(self.amount, 2)}


@dataclass(frozen=True)
class PipelineVelocity:
    pipeline_id: str
    label: str
    stages: tuple[StageVelocity, ...]
    current: PeriodTotals
    previous: PeriodTotals
    stalled: tuple[StalledDeal, ...]  # as of now, worst ratio first

    @property
    def stalled_amount(self) -> float:
        """What sits in the stalled deals now (a deal without an amount adds nothing)."""
        return sum(s.amount or 0.0 for s in self.stalled)

    def stage_conversion(self, previous: bool = False) -> float | None:
        """Entered-weighted average of the stage conversions (module docstring)."""
        convs = [s.previous_conversion if previous else s.conversion for s in self.stages]
        entered = sum(c.entered for c in convs)
        return sum(c.advanced for c in convs) / entered if entered else None

    def metrics(self) -> dict[str, Metric]:
        c, p = self.current, self.previous
        return {
            "stage_conversion": Metric(self.stage_conversion(), self.stage_conversion(previous=True), 3),
            "win_rate": Metric(c.win_rate, p.win_rate, 3), "deals_closed": Metric(c.closed, p.closed),
            "deals_won": Metric(c.won, p.won), "won_amount": Metric(c.won_amount, p.won_amount, 2),
            "deals_lost": Metric(c.lost, p.lost), "lost_amount": Metric(c.lost_amount, p.lost_amount, 2),
            "cycle_median_days": Metric(c.cycle.median, p.cycle.median, 1),
            "cycle_mean_days": Metric(c.cycle.mean, p.cycle.mean, 1),
            "created_count": Metric(c.created, p.created), "created_amount": Metric(c.created_amount, p.created_amount, 2),
            "stalled_count": Metric(c.stalled, p.stalled),
            "stalled_amount": Metric(c.stalled_amount, p.stalled_amount, 2),
        }

    def to_dict(self) -> dict[str, object]:
        return {"id": self.pipeline_id, "label": self.label,
                "totals": {k: m.to_dict() for k, m in self.metrics().items()},
                "stages": [s.to_dict() for s in self.stages], "stalled": [s.to_dict() for s in self.stalled],
                "stalled_amount": rnd(self.stalled_amount, 2)}


@dataclass(frozen=True)
class VelocityReport:
    now: dt.datetime
    window: Window
    previous_window: Window
    pipelines: tuple[PipelineVelocity, ...]
    chart_path: Path | None = None  # the digest chart of pipelines[0] (run_velocity draws it)

    @property
    def partial(self) -> bool:
        """The window has not ended yet (a --week in the current week)."""
        return self.window.end > self.now

    def to_dict(self) -> dict[str, object]:
        return {"now": self.now.isoformat(), "window": self.window.to_dict(),
                "previous_window": self.previous_window.to_dict(), "partial": self.partial,
                "pipelines": [p.to_dict() for p in self.pipelines],
                "chart_path": str(self.chart_path) if self.chart_path else None}


