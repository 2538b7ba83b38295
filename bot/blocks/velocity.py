"""`velocity` for Slack (the weekly digest): per pipeline, on top the three figures
executives read (cycle median created to won, stage conversion = entered-weighted
average of the stage conversions, pipeline created vs won amounts), each with the change
from last week; then win rate, lost and stalled amounts in a context line; then a per-stage table (days in
stage vs the map's target, conversion) by CRM stage label; then the stalled deals worst
first with their owners (`<@U…>` when `mentions` resolves them, the name otherwise).
The report's `chart_path` (drawn by run_velocity) is attached as a file."""

from __future__ import annotations

from collections.abc import Mapping
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
from bot.blocks.rendering import RenderOptions, renders
from bot.message import MAX_BLOCKS, SlackMessage
from skills import figures
from skills.velocity_report import PipelineVelocity, VelocityReport

STALLED_SHOWN = 10


def owner_ref(owner_id: str | None, owner_name: str, mentions: Mapping[str, str] | None) -> str:
    """`<@U…>` when the owner's CRM email matched a Slack user (resolved by bot.owners),
    else the owner's name; never an email (results carry none)."""
    user = (mentions or {}).get(owner_id or "")
    return f"<@{user}>" if user else escape(owner_name)


def _headline(p: PipelineVelocity) -> list[str]:
    """The three figures executives read first, with the change from last week."""
    m, c = p.metrics(), p.current
    conv = m["stage_conversion"]
    return [
        f"*Cycle, created to won (median)*\n{figures.days(c.cycle.median)}"
        f"{figures.change(m['cycle_median_days'], 'days')} · {c.won} won",
        f"*Stage conversion*\n{figures.pct(conv.value)}{figures.change(conv, 'pct')} of stage entries advanced",
        f"*Pipeline created vs won*\n{figures.money(c.created_amount)}{figures.change(m['created_amount'], 'money')}"
        f" created · {figures.money(c.won_amount)}{figures.change(m['won_amount'], 'money')} won",
    ]


def _table(p: PipelineVelocity) -> str:
    """Days in stage vs target and conversion per stage, as a monospaced table."""
    width = min(max((len(s.label) for s in p.stages), default=5), 26)
    head = f"{'Stage':<{width}}  {'Median':>13}  {'Target':>6}  {'Advanced':>14}  {'In':>4}"
    rows = [head, "-" * len(head)]
    for s in p.stages:
        before = s.previous_days.median
        d_med = "" if s.days.median is None or before is None else f" ({s.days.median - before:+.1f})"
        rate, prev = s.conversion.rate, s.previous_conversion.rate
        d_rate = "" if rate is None or prev is None else f" ({(rate - prev) * 100:+.0f})"
        over = "!" if s.target_days is not None and s.days.median is not None and s.days.median > s.target_days else " "
        target = "—" if s.target_days is None else f"{s.target_days:g}d"
        label = s.label if len(s.label) <= width else s.label[: width - 1] + "…"
        rows.append(f"{label:<{width}}  {figures.days(s.days.median) + d_med:>13}{over} {target:>6}  "
                    f"{figures.pct(rate) + d_rate:>14}  {s.conversion.entered:>4}")
    return "```" + "\n".join(rows) + "```"


def _stalled(p: PipelineVelocity, offset: int, mentions: Mapping[str, str] | None) -> list[str]:
    rows = p.stalled[offset:offset + STALLED_SHOWN]
    lines = [f"• {escape(s.name)}: {escape(s.stage_label)}, {s.days:.0f}d vs {s.target_days:g}d target "
             f"({s.ratio:.1f}×), {figures.money(s.amount)}, owner {owner_ref(s.owner_id, s.owner_name, mentions)}"
             for s in rows]
    hidden = len(p.stalled) - offset - len(rows)
    if hidden > 0:
        lines.append(more_pointer(hidden, "velocity", "more stalled deals"))
    return lines


def _pipeline(p: PipelineVelocity, offset: int, mentions: Mapping[str, str] | None) -> list[Block]:
    m, c = p.metrics(), p.current
    if offset:
        lines = [f"*{escape(p.label)}*: stalled deals from #{offset + 1}"] + _stalled(p, offset, mentions)
        return [divider(), *sections("\n".join(lines))] if p.stalled[offset:] else []
    out: list[Block] = [
        divider(), section(f"*{escape(p.label)}*", fields=_headline(p)),
        context(f"Win rate {figures.pct(m['win_rate'].value)}{figures.change(m['win_rate'], 'pct')} "
                f"({c.won} of {c.closed} closed) · {c.lost} lost, {figures.money(c.lost_amount)}"
                f"{figures.change(m['lost_amount'], 'money')} · {c.created} deals created"
                f"{figures.change(m['created_count'], 'n')} · {len(p.stalled)} stalled now, "
                f"{figures.money(p.stalled_amount)} ({c.stalled} at week end, {figures.money(c.stalled_amount)}"
                f"{figures.change(m['stalled_amount'], 'money')})"),
    ]
    if p.stages:
        out += sections("*Days in stage vs target, and conversion* (! = median over target; changes vs last "
                        "week in brackets)\n" + _table(p))
    if p.stalled:
        out += sections("*Stalled deals* (worst first)\n" + "\n".join(_stalled(p, 0, mentions)))
    return out


def chart_files(result: VelocityReport) -> list[Path]:
    """Hook for the scheduler's chart: attached when the report carries an existing `chart_path`."""
    path = getattr(result, "chart_path", None)
    return [Path(path)] if path and Path(path).exists() else []


def render(result: VelocityReport, *, offset: int = 0, ephemeral: bool = False,
           mentions: Mapping[str, str] | None = None) -> SlackMessage:
    """`offset` is the first stalled deal shown per pipeline (the *Show more* page);
    `mentions` maps CRM owner id -> Slack user id (bot.owners) for stalled deals' owners."""
    w = result.window
    partial = " (week still running)" if result.partial else ""
    blocks: list[Block] = [header(f"Velocity, week {w.label}{partial}"),
                           context(f"{w.start:%Y-%m-%d} to {w.end:%Y-%m-%d} (end exclusive) vs "
                                   f"{result.previous_window.label} · {figures.as_of(result.now)}")]
    room = MAX_BLOCKS - len(blocks) - 2
    body, used = fit_groups([_pipeline(p, offset, mentions) for p in result.pipelines], room)
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
        text.append(f"{p.label}: cycle {figures.days(c.cycle.median)}, stage conversion "
                    f"{figures.pct(p.stage_conversion())}, {figures.money(c.created_amount)} created vs "
                    f"{figures.money(c.won_amount)} won, {figures.money(c.lost_amount)} lost, {len(p.stalled)} stalled "
                    f"({figures.money(p.stalled_amount)})")
    return finish(text, blocks, chart_files(result))


@renders(VelocityReport)
def _velocity_report(result: VelocityReport, options: RenderOptions) -> SlackMessage:
    return render(result, offset=options.offset, ephemeral=options.ephemeral, mentions=options.mentions)
