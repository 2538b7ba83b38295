"""`velocity` as plain text: one block per pipeline, headline first (cycle median, stage
conversion, created vs won), then won and lost, stalled deals with their amounts, stage
labels only, changes in brackets; the chart path last."""

from __future__ import annotations

from cli.text import text_for
from skills import figures
from skills.velocity_report import PipelineVelocity, StageVelocity, VelocityReport

STALLED_SHOWN = 10


def _stage_line(stage: StageVelocity, width: int) -> str:
    days = stage.days
    d_med = "" if days.median is None or stage.previous_days.median is None else \
        f" ({days.median - stage.previous_days.median:+.1f})"
    conv = stage.conversion
    rate, before = conv.rate, stage.previous_conversion.rate
    d_rate = "" if rate is None or before is None else f" ({(rate - before) * 100:+.0f} pts)"
    target = "no target" if stage.target_days is None else f"target {stage.target_days:g}d"
    return (f"  {stage.label:<{width}}  median {figures.days(days.median)}{d_med}, mean {figures.days(days.mean)}, "
            f"n={days.count}, {target} | advanced {figures.pct(rate)}{d_rate} of {conv.entered} entered"
            f" ({conv.open} still open)")


def _pipeline(p: PipelineVelocity) -> list[str]:
    m = p.metrics()
    c = p.current
    conv = m["stage_conversion"]
    lines = [
        f"{p.label}",
        f"  Cycle, created to won (median): {figures.days(c.cycle.median)}{figures.change(m['cycle_median_days'], 'days')}"
        f" | Stage conversion: {figures.pct(conv.value)}{figures.change(conv, 'pct')}"
        f" | Created vs won: {figures.money(c.created_amount)}{figures.change(m['created_amount'], 'money')}"
        f" vs {figures.money(c.won_amount)}{figures.change(m['won_amount'], 'money')}",
        f"  Win rate {figures.pct(m['win_rate'].value)}{figures.change(m['win_rate'], 'pct')}: {c.won} won of {c.closed} closed; "
        f"won {figures.money(c.won_amount)}{figures.change(m['won_amount'], 'money')}; "
        f"lost {c.lost} ({figures.money(c.lost_amount)}{figures.change(m['lost_amount'], 'money')})",
        f"  Cycle (created to won): median {figures.days(c.cycle.median)}{figures.change(m['cycle_median_days'], 'days')}, "
        f"mean {figures.days(c.cycle.mean)}",
        f"  Pipeline created: {c.created} deals{figures.change(m['created_count'], 'n')}, "
        f"{figures.money(c.created_amount)}{figures.change(m['created_amount'], 'money')}",
        "  Days in stage (stays ended this week) and conversion (deals that entered this week):",
    ]
    width = max((len(s.label) for s in p.stages), default=10)
    lines += [_stage_line(s, width) for s in p.stages]
    if p.stalled:
        lines.append(f"  Stalled now: {len(p.stalled)} open deals over their stage target, "
                     f"{figures.money(p.stalled_amount)} ({c.stalled} at week end{figures.change(m['stalled_count'], 'n')}, "
                     f"{figures.money(c.stalled_amount)}{figures.change(m['stalled_amount'], 'money')})")
        for s in p.stalled[:STALLED_SHOWN]:
            lines.append(f"    - {s.name}: {s.stage_label}, {s.days:.0f}d vs {s.target_days:g}d target "
                         f"({s.ratio:.1f}x), {figures.money(s.amount)}, owner {s.owner_name}")
        if len(p.stalled) > STALLED_SHOWN:
            lines.append(f"    … and {len(p.stalled) - STALLED_SHOWN} more")
    else:
        lines.append("  Stalled now: none over target")
    return lines


@text_for(VelocityReport)
def render(result: VelocityReport) -> str:
    w, prev = result.window, result.previous_window
    head = (f"Velocity, week {w.label} ({w.start:%Y-%m-%d} to {w.end:%Y-%m-%d}, end exclusive) "
            f"vs {prev.label}" + (" [week still running]" if result.partial else ""))
    lines = [head, figures.as_of(result.now)]
    for p in result.pipelines:
        lines.append("")
        lines += _pipeline(p)
    if result.chart_path:
        lines += ["", f"Chart: {result.chart_path}"]
    elif result.pipelines:
        lines += ["", "Chart: add --out DIR to write it"]
    return "\n".join(lines)
