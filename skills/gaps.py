"""`gaps`: the content-gap audit (issue #4) — which buyer questions no asset answers,
which stage x persona cells have no content, what is stale, what reps asked in Slack
that the map could not answer; worst-converting stages first, because a gap costs most
where deals already leak. The report's shape and its pure build live in
`skills.gap_report`; this module gathers the inputs (map, embeddings, question log, CRM)
and writes the heatmap and CSV when the context gives it a folder.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from knowledge.catalog import resolve_persona, resolve_stage
from skills.context import SkillContext
from skills.coverage import match_questions, normalise_question, similarity
from skills.gap_exports import write_csv, write_heatmap
from skills.gap_report import GapReport, SlackQuestion, build_report
from skills.influence_report import InfluenceReport
from skills.registry import Arg, Schedule, Skill
from storage.engine import session_scope
from storage.question_log import list_questions

log = logging.getLogger(__name__)

SLACK_LOOKBACK = 500  # most recent unanswered log entries read (before de-duplication)


def unanswered_slack_questions(ctx: SkillContext, limit: int = SLACK_LOOKBACK) -> list[SlackQuestion]:
    """Questions reps asked that the map could not answer, most recent first, one per
    distinct wording (case, spacing and trailing punctuation ignored)."""
    seen: dict[str, SlackQuestion] = {}
    with session_scope(ctx.engine) as session:
        for entry in list_questions(session, unanswered_only=True, limit=limit):
            key = normalise_question(entry.question)
            source = entry.source or ("slack" if entry.channel else "cli")
            if key in seen:
                known = seen[key].source.split("+")
                seen[key] = dataclasses.replace(seen[key], times_asked=seen[key].times_asked + 1,
                                                source="+".join(known if source in known else [*known, source]))
            else:
                seen[key] = SlackQuestion(question=entry.question, last_asked=entry.asked_at, times_asked=1,
                                          stage_id=entry.stage_id, persona_id=entry.persona_id, channel=entry.channel,
                                          source=source)
    return list(seen.values())


def run_gaps(
    ctx: SkillContext, stale_months: int = 12, conversion: dict[str, float] | None = None,
    stage: str | None = None, persona: str | None = None,
) -> GapReport:
    """Audit the live map. `conversion` maps journey stage id -> stage-to-stage conversion
    rate 0..1 (e.g. {"consideration": 0.18, "decision": 0.42}, from the velocity skill);
    given, the lowest-converting stages rank first, otherwise stages go in map order.
    `stage` / `persona` (id, name or alias) narrow the audit to that part of the map."""
    journey_map = ctx.journey_map
    stage_id = resolve_stage(journey_map, stage).id if stage else None
    persona_id = resolve_persona(journey_map, persona).id if persona else None
    notes: list[str] = []
    if conversion is None and ctx.crm_configured:
        conversion, notes = _crm_conversion(ctx)
    matches = match_questions(journey_map, similarity(journey_map, ctx.knowledge.embeddings))
    report = build_report(
        journey_map, matches, now=ctx.now, stale_months=stale_months, conversion=conversion,
        slack_questions=unanswered_slack_questions(ctx), stage_id=stage_id, persona_id=persona_id,
    )
    report = dataclasses.replace(report, notes=(*notes, *report.notes),
                                 influence=_influence(ctx) if ctx.crm_configured else None)
    if ctx.reports_dir is None:  # nobody asked for the files: write none
        return report
    heatmap, table = _write_files(ctx.reports_dir, report)
    return dataclasses.replace(report, heatmap_path=heatmap, csv_path=table)


def _write_files(folder: Path, report: GapReport) -> tuple[Path, Path]:
    """The heatmap PNG and the per-question CSV, named by the report's time and focus. Rows and
    columns are the report's own, so an audit narrowed to one persona has one column."""
    # Narrowed audits of one moment (subscriptions firing together) get files of their own.
    stamp = "-".join([*filter(None, (report.stage_id, report.persona_id)), report.generated_at.strftime("%Y%m%d-%H%M%S")])
    gaps = {g.stage_id: g for g in report.stages}
    heatmap = write_heatmap(
        folder / f"gaps-{stamp}.png",
        [list(row.values()) for row in report.cells.values()],
        [f"{gaps[s].stage_name}\n{gaps[s].coverage_pct:.0f}% of questions answered" for s in report.cells],
        [p.persona_name for p in report.personas],
        f"Assets per stage × persona — {report.map_name} ({report.map_version})",
    )
    return heatmap, write_csv(folder / f"gaps-{stamp}.csv", report.question_status)


def _crm_conversion(ctx: SkillContext) -> tuple[dict[str, float] | None, list[str]]:
    """Conversion from the CRM; when the CRM fails, the audit still runs, in stage order."""
    from skills.conversion import CONVERSION_WINDOW_DAYS, conversion_from_crm
    from skills.crm.errors import CrmError

    try:
        rates = conversion_from_crm(ctx)
    except CrmError as exc:
        log.warning("gaps: CRM conversion unavailable: %s", exc)
        return None, [f"CRM unavailable ({exc}); stages ranked in map order."]
    return rates or None, [f"Conversion from the CRM over the last {CONVERSION_WINDOW_DAYS} days."]


def _influence(ctx: SkillContext) -> InfluenceReport | None:
    """The content influence section; the audit runs without it when the CRM fails."""
    from skills.crm.errors import CrmError
    from skills.influence import run_influence

    try:
        return run_influence(ctx)
    except CrmError as exc:
        log.warning("gaps: content influence unavailable: %s", exc)
        return None


SKILL = Skill(
    name="gaps",
    help="Where the content library has gaps, worst-converting stages first.",
    run=run_gaps,
    args=(Arg("stale_months", "assets not reviewed for this many months count as stale", kind="int", default=12),
          Arg("stage", "only this stage (id, name or alias)"),
          Arg("persona", "only this persona (id, name or alias)")),
    needs_crm=False,
    schedule=Schedule("gaps", "0 9 1 * *", aliases=("audit",), filters=("stale_months", "stage", "persona")),
    examples=("gaps", "gaps --stale_months 6", "gaps --stage decision --persona finance"),
    report_files=True,
    utterances=(
        "where are our content gaps?",
        "run the content gap audit",
        "which stages have no content",
        "what content are we missing",
        "which buyer questions does nothing answer yet",
        "what should marketing write next",
        "hi, could you check which personas we have no material for?",
        "show me the holes in our content library",
        "is any of our content out of date",
        "contnet gaps pls",
        "where is the library thin",
        "which stage by persona cells are empty",
        "what should we create for the middle of the funnel, where do we lack assets",
        "audit our collateral coverage",
        "unanswered buyer questions across the journey",
        "what assets are stale or need a refresh",
        "what's missing from our content library?",
        'do we lack material for the finance persona?',
        'where would another customer story help most',
        'reps say they run out of things to send mid-funnel, where are we short',
        "how's our coverage for renewals and upsells",
        'gaps in what we have for technical evaluators',
        'which end-user needs have no content',
        'is our post-sale content thin?',
        'which personas are underserved by our content',
        'what content should we prioritise producing next quarter',
        'do we have content for every stage of the journey?',
        'which buyer questions have no asset answering them',
        'where is our collateral weakest relative to conversion',
        'content audit please',
        'what should the content team build next',
        'which assets are outdated',
    ),
)

