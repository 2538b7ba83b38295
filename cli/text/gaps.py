"""Plain-text rendering of the `gaps` audit: the ranked stages first (what to write next),
then the lists that span stages (stale assets, questions reps asked), then the file paths."""

from __future__ import annotations

from cli.text import text_for
from cli.text.influence import asset_lines
from skills import figures
from skills.gap_report import GapReport, StageGap, asked_where

MAX_SLACK = 15


def _stage(gap: StageGap, persona_names: dict[str, str]) -> list[str]:
    conversion = f", conversion {gap.conversion:.0%}" if gap.conversion is not None else ""
    lines = [f"{gap.rank}. {gap.stage_name}: {gap.coverage_pct:.1f}% answered ({gap.answered}/{gap.questions}){conversion}"]
    if gap.unanswered:
        lines.append(f"   Unanswered ({len(gap.unanswered)}):")
        for m in gap.unanswered:
            who = ", ".join(persona_names.get(p, p) for p in m.personas) or "everyone"
            lines.append(f"     - {m.question_id} {m.text} [{who}]")
    missing = [p for p in gap.personas if p.unanswered]
    if missing:
        lines.append(
            "   By persona: "
            + "; ".join(f"{persona_names.get(p.persona_id, p.persona_id)} {len(p.unanswered)} unanswered" for p in missing)
        )
    if gap.empty_personas:
        lines.append("   No content for: " + ", ".join(persona_names.get(p, p) for p in gap.empty_personas))
    if gap.thin_personas:
        lines.append("   Thin (one asset) for: " + ", ".join(persona_names.get(p, p) for p in gap.thin_personas))
    if gap.stale_assets:
        lines.append(f"   Stale assets: {', '.join(a.id for a in gap.stale_assets)}")
    if gap.slack_questions:
        lines.append(f"   {asked_where(gap.slack_questions)}, not answered: {len(gap.slack_questions)}")
    return lines


@text_for(GapReport)
def render(result: GapReport) -> str:
    persona_names = {p.persona_id: p.short_name for p in result.personas}
    ranking = (
        "lowest stage conversion first" if result.ranked_by == "conversion" else "stage order (no conversion data)"
    )
    lines = [
        f"Content gaps{f' for {result.focus}' if result.focus else ''}: {result.map_name} ({result.map_version}), "
        f"{figures.as_of(result.generated_at)}",
        f"Coverage: {result.coverage_pct:.1f}% of {result.questions} buyer questions answered "
        f"({result.explicit} explicitly, {result.semantic} by semantic match >= {result.threshold:.2f})",
        f"Ranked by {ranking}.",
        "",
    ]
    quiet: list[str] = []
    for gap in result.stages:
        if gap.has_gaps:
            lines.extend(_stage(gap, persona_names))
            lines.append("")
        else:
            quiet.append(gap.stage_name)
    if quiet:
        lines += [f"No gaps: {', '.join(quiet)}.", ""]
    semantic = [m for m in result.question_status if m.answered == "semantic"]
    if semantic:
        lines.append("Answered only by semantic match (worth linking in the map):")
        lines += [f"  - {m.question_id} {m.text} -> {m.label}" for m in semantic]
        lines.append("")
    lines.append(
        f"Stale assets ({len(result.stale_assets)}, not reviewed since {result.stale_cutoff:%Y-%m-%d}):"
        + ("" if result.stale_assets else " none")
    )
    lines += [f"  - {a.id} {a.title} (last reviewed {a.last_reviewed:%Y-%m-%d}, owner {a.owner})" for a in result.stale_assets]
    lines.append("")
    lines.append(
        f"{asked_where(result.slack_questions)}, not answered by the map ({len(result.slack_questions)}):"
        + ("" if result.slack_questions else " none")
    )
    mixed = len({q.source for q in result.slack_questions}) > 1
    for q in result.slack_questions[:MAX_SLACK]:
        times = f", {q.times_asked}x" if q.times_asked > 1 else ""
        stage = f", {q.stage_id}" if q.stage_id else ""
        where = f", {q.source.replace('+', ' and ')}" if mixed else ""
        lines.append(f"  - {q.question} ({q.last_asked:%Y-%m-%d}{stage}{times}{where})")
    if len(result.slack_questions) > MAX_SLACK:
        lines.append(f"  … and {len(result.slack_questions) - MAX_SLACK} more (see --json)")
    lines.append("")
    if result.influence is not None and result.influence.assets:
        lines += ["Content influence (what reps sent and how those deals moved):",
                  *asset_lines(result.influence, with_deals=False), ""]
    lines += [f"Note: {n}" for n in result.notes]
    if result.heatmap_path:
        lines.append(f"Heatmap: {result.heatmap_path}")
    if result.csv_path:
        lines.append(f"CSV: {result.csv_path}")
    if not (result.heatmap_path or result.csv_path):
        lines.append("Heatmap and CSV: add --out DIR to write them")
    return "\n".join(lines).rstrip() + "\n"
