"""The `gaps` audit for Slack: headline coverage as fields, then one section per stage
with gaps in rank order (what to write next), then stale assets and unanswered Slack
questions. Stages that do not fit the 50-block limit are behind *Show more*; the
heatmap goes with the message as a file."""

from __future__ import annotations

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
)
from bot.blocks.influence import gap_section
from bot.blocks.rendering import RenderOptions, renders
from bot.message import MAX_BLOCKS, SlackMessage
from skills import figures
from skills.gap_report import GapReport, StageGap, asked_where

LIST_SHOWN = 8  # items of one list inside a section before "… n more"

_ATTACHED = {".png": "Heatmap attached: assets per stage × persona.",
             ".csv": "CSV attached: every buyer question with its stage, personas, status and assets."}


def _capped(items: list[str], skill: str = "gaps") -> list[str]:
    shown = items[:LIST_SHOWN]
    if len(items) > LIST_SHOWN:
        shown.append(more_pointer(len(items) - LIST_SHOWN, skill))
    return shown


def _stage_text(gap: StageGap, names: dict[str, str]) -> str:
    conversion = f", converts {gap.conversion:.0%}" if gap.conversion is not None else ""
    lines = [f"*{gap.rank}. {escape(gap.stage_name)}* — {gap.coverage_pct:.0f}% of buyer questions answered "
             f"({gap.answered}/{gap.questions}){conversion}"]
    if gap.unanswered:
        lines.append(f"_Unanswered ({len(gap.unanswered)}):_")
        lines += _capped([
            f"• {escape(m.text)} ({escape(', '.join(names.get(p, p) for p in m.personas) or 'everyone')})"
            for m in gap.unanswered
        ])
    if gap.empty_personas:
        lines.append("_No content for:_ " + escape(", ".join(names.get(p, p) for p in gap.empty_personas)))
    if gap.thin_personas:
        lines.append("_Only one asset for:_ " + escape(", ".join(names.get(p, p) for p in gap.thin_personas)))
    if gap.stale_assets:
        titles = [a.title for a in gap.stale_assets]
        more = f" and {len(titles) - LIST_SHOWN} more" if len(titles) > LIST_SHOWN else ""
        lines.append("_Stale:_ " + escape(", ".join(titles[:LIST_SHOWN])) + more)
    if gap.slack_questions:
        lines.append(f"_{asked_where(gap.slack_questions)}, not answered:_ {len(gap.slack_questions)}")
    return "\n".join(lines)


def _summary(result: GapReport) -> Block:
    ranking = "lowest conversion first" if result.ranked_by == "conversion" else "stage order (no conversion data)"
    return section(
        f"*{result.coverage_pct:.1f}%* of {result.questions} buyer questions have an answering asset "
        f"({result.explicit} linked in the map, {result.semantic} by semantic match ≥ {result.threshold:.2f}).",
        fields=[
            f"*Stages with gaps*\n{sum(g.has_gaps for g in result.stages)} of {len(result.stages)}",
            f"*Ranked by*\n{ranking}",
            f"*Empty stage × persona cells*\n{len(result.empty_cells)}",
            f"*Stale assets*\n{len(result.stale_assets)} (before {result.stale_cutoff:%Y-%m-%d})",
            f"*Unanswered in Slack*\n{len(result.slack_questions)}",
        ],
    )


def _cross_stage(result: GapReport) -> list[Block]:
    """Lists that span stages, shown once (first page only)."""
    stage_names = {g.stage_id: g.stage_name for g in result.stages}
    out: list[Block] = []
    if result.stale_assets:
        lines = [f"*Stale assets* (not reviewed since {result.stale_cutoff:%Y-%m-%d})"]
        lines += _capped([f"• {escape(a.title)} — last reviewed {a.last_reviewed:%Y-%m-%d}, owner {escape(a.owner)}"
                          for a in result.stale_assets])
        out.append(section("\n".join(lines)))
    if result.slack_questions:
        lines = [f"*{asked_where(result.slack_questions)}, not answered by the map*"]
        items = []
        for q in result.slack_questions:
            stage = f", {escape(stage_names[q.stage_id])}" if q.stage_id in stage_names else ""
            times = f", {q.times_asked}×" if q.times_asked > 1 else ""
            items.append(f"• {escape(q.question)} ({q.last_asked:%Y-%m-%d}{stage}{times})")
        out.append(section("\n".join(lines + _capped(items))))
    return out


def render(result: GapReport, *, offset: int = 0, ephemeral: bool = False) -> SlackMessage:
    """`offset` skips that many stages with gaps (the *Show more* page)."""
    names = {p.persona_id: p.short_name for p in result.personas}
    gapped = [g for g in result.stages if g.has_gaps]
    quiet = [g.stage_name for g in result.stages if not g.has_gaps]
    page = " (continued)" if offset else ""
    focus = f" for {result.focus}" if result.focus else ""
    head: list[Block] = [header(f"Content gaps{focus}: {result.map_name} ({result.map_version}){page}"),
                         context(figures.as_of(result.generated_at))]
    if not offset:
        head.append(_summary(result))
    tail: list[Block] = []
    if not offset:
        if quiet:
            tail.append(context("No gaps: " + escape(", ".join(quiet))))
        tail += _cross_stage(result)
        if result.influence is not None:
            tail += gap_section(result.influence)
        notes = [escape(n) for n in result.notes]
        if notes:
            tail.append(context(*notes))
    # a visualisation hook like velocity's: the heatmap and the per-question table go as files
    files = [p for p in (result.heatmap_path, result.csv_path) if p and p.exists()] if not offset else []
    if files:
        tail.append(context(" ".join(_ATTACHED[p.suffix] for p in files)))
    reserve = 2  # the "more" pointer and its actions block
    room = MAX_BLOCKS - len(head) - len(tail) - reserve
    groups = [[divider(), section(_stage_text(g, names))] for g in gapped[offset:]]
    body, used = fit_groups(groups, room)
    blocks = head + body + tail
    hidden = len(gapped) - offset - used
    if hidden > 0:
        blocks.append(context(more_pointer(hidden, "gaps", "more stages with gaps")))
    ref = rerun_ref(("stale_months", str(result.stale_months)), ("stage", result.stage_id), ("persona", result.persona_id))
    blocks += footer("gaps", ref, ephemeral=ephemeral, next_offset=offset + used if hidden > 0 else None)
    text = [f"Content gaps{focus}: {result.coverage_pct:.1f}% of {result.questions} buyer questions answered; "
            f"{len(gapped)} stages with gaps"]
    text += [f"{g.rank}. {g.stage_name}: {len(g.unanswered)} unanswered" for g in gapped[offset:offset + used]]
    if hidden > 0:
        text.append(f"… {hidden} more stages")
    return finish(text, blocks, files)


@renders(GapReport)
def _gap_report(result: GapReport, options: RenderOptions) -> SlackMessage:
    return render(result, offset=options.offset, ephemeral=options.ephemeral)
