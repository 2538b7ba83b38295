"""How figures read, the same in Slack and in the terminal: days, percentages, money and
week-over-week changes ("—" where there is no number)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from skills.velocity_report import Metric

ChangeKind = Literal["pct", "days", "money", "count"]


def as_of(moment: dt.datetime) -> str:
    """When a report's figures were read: a digest computed at its fire time and a CLI run
    now can differ for the same week, and each says which moment it shows."""
    return f"as of {moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}d"


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def change(metric: Metric, kind: ChangeKind | str) -> str:
    d = metric.delta
    if d is None:
        return ""
    if kind == "pct":
        return f" ({d * 100:+.0f} pts)"
    if kind == "days":
        return f" ({d:+.1f}d)"
    if kind == "money":
        return f" ({'+' if d >= 0 else '-'}{abs(d):,.0f})"
    return f" ({d:+.0f})"
