"""The weekly digest's chart: one PNG per velocity report, for the leaders' channel.

Two panels side by side for one pipeline, both listing the pipeline's open stages by
their CRM labels in pipeline order (top to bottom):
- left, the funnel: deals that ENTERED each stage in the report's week (bar length),
  each bar annotated with the share of that cohort that has advanced to a later stage;
- right, days in stage: the median for stays that ended in the week (bar), against the
  journey map's target for the stage (a black tick and the number); a bar over its
  target is drawn red, within target green, without a target slate, no stays ended grey ("no data").

Drawn with matplotlib's Agg canvas directly (no pyplot, no display, no global figure
state), sized to stay legible at Slack's preview width (about 1,300 px wide).
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from skills.velocity_report import PipelineVelocity, VelocityReport

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FUNNEL_COLOUR = "#3a78c2"
OVER_COLOUR = "#d0453a"
WITHIN_COLOUR = "#3c9a5f"
MUTED = "#8a8a8a"
NO_TARGET_COLOUR = "#7a8fa6"


def chart_name(now: dt.datetime, pipeline_id: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in pipeline_id)[:40] or "pipeline"
    return f"velocity-{safe}-{now.astimezone(dt.UTC):%Y%m%d-%H%M%S}.png"


def write_velocity_chart(path: Path, report: VelocityReport, pipeline: PipelineVelocity) -> Path:
    """Draw `pipeline` of `report` into `path` (PNG); returns the path."""
    figure = draw_velocity_chart(report, pipeline)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def draw_velocity_chart(report: VelocityReport, pipeline: PipelineVelocity) -> Figure:
    """The chart's figure (Agg canvas attached), for saving or inspecting."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    stages = list(pipeline.stages)
    labels = ["\n".join(textwrap.wrap(s.label, 24, break_on_hyphens=False)) or s.stage_id for s in stages] or ["(no open stages)"]
    rows = max(len(stages), 1)
    figure = Figure(figsize=(11.0, 2.2 + 0.62 * rows), dpi=120)
    FigureCanvasAgg(figure)
    funnel, days = figure.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": (1.0, 1.0)})
    ys = list(range(rows))

    entered = [s.conversion.entered for s in stages]
    peak = max(entered, default=0) or 1
    funnel.barh(ys[: len(stages)], entered, color=FUNNEL_COLOUR, height=0.62)
    for y, s in zip(ys, stages, strict=False):
        rate = s.conversion.rate
        note = f"{s.conversion.entered}  ·  {rate * 100:.0f}% advanced" if rate is not None else "0 entered"
        inside = s.conversion.entered > 0.55 * peak
        funnel.text(s.conversion.entered - peak * 0.02 if inside else s.conversion.entered + peak * 0.02, y, note,
                    va="center", ha="right" if inside else "left", fontsize=10,
                    color="white" if inside else "#222222", fontweight="bold" if inside else "normal")
    funnel.set_xlim(0, peak * 1.6)
    funnel.set_yticks(ys, labels, fontsize=10)
    funnel.invert_yaxis()
    funnel.set_xlabel("deals entering the stage this week", fontsize=10)
    funnel.set_title("Funnel: entered, and share advanced to a later stage", fontsize=11, loc="left")

    medians = [s.days.median for s in stages]
    targets = [s.target_days for s in stages]
    top = max([m for m in medians if m is not None] + [t for t in targets if t is not None] + [1.0])
    colours = []
    for m, t in zip(medians, targets, strict=False):
        if m is None:
            colours.append(MUTED)
        elif t is None:
            colours.append(NO_TARGET_COLOUR)
        elif m > t:
            colours.append(OVER_COLOUR)
        else:
            colours.append(WITHIN_COLOUR)
    days.barh(ys[: len(stages)], [m or 0.0 for m in medians], color=colours, height=0.62)
    for y, _stage, m, t in zip(ys, stages, medians, targets, strict=False):
        if t is not None:
            days.plot([t, t], [y - 0.42, y + 0.42], color="black", linewidth=2.5)
        shown = "no stays ended" if m is None else f"{m:.1f}d"
        goal = "no target" if t is None else f"target {t:g}d"
        days.text(max(m or 0.0, t or 0.0) + top * 0.03, y, f"{shown}  ({goal})", va="center", fontsize=10,
                  color=MUTED if m is None else "#222222")
    days.set_xlim(0, top * 1.7)
    days.tick_params(axis="y", length=0)
    days.set_xlabel("median days (stays ended this week) · black tick = target", fontsize=10)
    days.set_title("Days in stage vs target", fontsize=11, loc="left")

    for axes in (funnel, days):
        axes.spines[["top", "right"]].set_visible(False)
        axes.grid(axis="x", color="#e5e5e5", linewidth=0.8)
        axes.set_axisbelow(True)
        axes.tick_params(axis="x", labelsize=9)
    w = report.window
    running = " (week still running)" if report.partial else ""
    figure.suptitle(f"{pipeline.label}: velocity, week {w.label}{running} ({w.start:%Y-%m-%d} to "
                    f"{w.end - dt.timedelta(days=1):%Y-%m-%d})", fontsize=13, x=0.01, ha="left")
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    return figure
