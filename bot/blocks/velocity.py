"""`velocity` for Slack: per pipeline the headline figures as fields (with last week's
change), days in stage and conversion per stage by CRM stage label, then the stalled
deals worst first. The chart hook: a `chart_path` on the report (the scheduler issue
adds one) is attached as a file, like the gaps heatmap."""

from __future__ import annotations

from pathlib import Path

from slack_sdk.models.blocks import Block

from bot.blocks.common import (
    context,
    divider,
    escape,
    finish,
    fit_groups,
    footer,
    header,
    more_pointer,
    rerun_ref,
    section,
    sections,
)
from bot.message import MAX_BLOCKS, SlackMessage
from skills import figures
from skills.velocity import PipelineVelocity, StageVelocity, VelocityReport

STALLED_SHOWN = 10


def _stage(s: StageVelocity) -> str:
    before = s.previous_days.median
    d_med = "" if s.days.median is None or before is None else f" ({s.days.median - before:+.1f})"
    rate, prev = s.conversion.rate, s.previous_conversion.rate
    d_rate = "" if rate is None or prev is None else f" ({(rate - prev) * 100:+.0f} pts)"
    target = "no target" if s.target_days is None else f"target {s.target_days:g}d"
    over = " ⚠️" if s.target_days is not None and s.days.median is not None and s.days.median > s.target_days else ""
    return (f"• *{escape(s.label)}*: median {figures.days(s.days.median)}{d_med}{over} ({target}, n={s.days.count}) · "
            f"advanced {figures.pct(rate)}{d_rate} of {s.conversion.entered} entered ({s.conversion.open} open)")


def _stalled(p: PipelineVelocity, offset: int) -> list[str]:
    rows = p.stalled[offset:offset + STALLED_SHOWN]
    lines = [f"• {escape(s.name)}: {escape(s.stage_label)}, {s.days:.0f}d vs {s.target_days:g}d target "
             f"({s.ratio:.1f}×), owner {escape(s.owner_name)}" for s in rows]
    hidden = len(p.stalled) - offset - len(rows)
    if hidden > 0:
        lines.append(more_pointer(hidden, "velocity", "more stalled deals"))
    return lines


def _pipeline(p: PipelineVelocity, offset: int) -> list[Block]:
    m, c = p.metrics(), p.current
    if offset:
        lines = [f"*{escape(p.label)}*: stalled deals from #{offset + 1}"] + _stalled(p, offset)
        return [divider(), *sections("\n".join(lines))] if p.stalled[offset:] else []
    out: list[Block] = [divider(), section(f"*{escape(p.label)}*", fields=[
        f"*Win rate*\n{figures.pct(m['win_rate'].value)}{figures.change(m['win_rate'], 'pct')}: {c.won} of {c.closed} closed",
        f"*Won*\n{figures.money(c.won_amount)}{figures.change(m['won_amount'], 'money')}",
        f"*Cycle (median)*\n{figures.days(c.cycle.median)}{figures.change(m['cycle_median_days'], 'days')}",
        f"*Pipeline created*\n{c.created} deals{figures.change(m['created_count'], 'n')}, {figures.money(c.created_amount)}",
        f"*Stalled*\n{len(p.stalled)} over target now; {c.stalled} at week end{figures.change(m['stalled_count'], 'n')}",
    ])]
    if p.stages:
        out += sections("*Days in stage and conversion*\n" + "\n".join(_stage(s) for s in p.stages))
    if p.stalled:
        out += sections("*Stalled deals* (worst first)\n" + "\n".join(_stalled(p, 0)))
    return out


def chart_files(result: VelocityReport) -> list[Path]:
    """Hook for the scheduler's chart: attached when the report carries an existing `chart_path`."""
    path = getattr(result, "chart_path", None)
    return [Path(path)] if path and Path(path).exists() else []


def render(result: VelocityReport, *, offset: int = 0, ephemeral: bool = False) -> SlackMessage:
    """`offset` is the first stalled deal shown per pipeline (the *Show more* page)."""
    w = result.window
    partial = " (week still running)" if result.partial else ""
    blocks: list[Block] = [header(f"Velocity, week {w.label}{partial}"),
                           context(f"{w.start:%Y-%m-%d} to {w.end:%Y-%m-%d} (end exclusive) vs "
                                   f"{result.previous_window.label}")]
    room = MAX_BLOCKS - len(blocks) - 2
    body, used = fit_groups([_pipeline(p, offset) for p in result.pipelines], room)
    blocks += body
    if used < len(result.pipelines):
        blocks.append(context(more_pointer(len(result.pipelines) - used, "velocity", "more pipelines")))
    more = any(len(p.stalled) > offset + STALLED_SHOWN for p in result.pipelines[:used])
    parts: list[tuple[str, str | None]] = [("week", f"{w.start:%Y-%m-%d}")]
    if len(result.pipelines) == 1:
        parts.insert(0, ("pipeline", result.pipelines[0].pipeline_id))
    blocks += footer("velocity", rerun_ref(*parts), ephemeral=ephemeral,
                     next_offset=offset + STALLED_SHOWN if more else None)
    text = [f"Velocity, week {w.label}{partial}"]
    for p in result.pipelines:
        c = p.current
        text.append(f"{p.label}: win rate {figures.pct(c.win_rate)}, {c.won} won, {c.created} created, "
                    f"{len(p.stalled)} stalled")
    return finish(text, blocks, chart_files(result))
