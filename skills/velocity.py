"""`velocity`: how fast deals move through each pipeline, week over week.

The figures are the ones executives read (domain brief, "Velocity and conversion"): days
in stage, stage-to-stage conversion, win rate, cycle length, pipeline created and won,
and stalled deals. `compute_velocity` is pure over gateway records so it can be tested
against hand-computed figures and benchmarked on 50,000 deals without HTTP.

Definitions (all windows are half-open, [start, end), in UTC):
- days in stage: for stage stays that ENDED in the window (exited_at inside it), the
  time from entering to leaving; stays still running are not averaged in;
- conversion of stage S: the cohort is every deal that ENTERED S in the window; a deal
  advanced when, by `now`, it entered any later open stage of the pipeline order or a
  won stage (skipped stages count), or is won; `lost` = closed lost without advancing,
  `open` = neither yet. Rate = advanced / entered. A young cohort has had less time, so
  the latest week reads low until its deals mature (the `open` count says how many);
- win rate: of the deals closed in the window (closedate), the share won;
- cycle length: createdate to closedate of the deals won in the window;
- pipeline created: deals created in the window (count, sum of amount); lost: deals closed
  lost in the window (count, sum of amount);
- stalled: open deals whose days in their current stage exceed the journey map's target
  for that deal stage; the list (and its amount) is as of `now`, the per-week counts and
  amounts are as of each window's end (reconstructed from stage times) so the change can
  be shown;
- stage conversion (the digest's headline, one number per pipeline): the entered-weighted
  average of the stage conversions, i.e. over every open stage's cohort of the window,
  sum(advanced) / sum(entered). Each deal counts once per stage it entered, so a week
  with many early-stage entries weighs those stages more; it is not "share of first-stage
  entries that were won" (that needs months of maturity and reads 0 for a young week).

The chart (`skills.velocity_chart`) is drawn by `run_velocity` for the report's FIRST
pipeline (the `--pipeline` one, else the portal's first, normally the main sales
pipeline) when the context names a reports folder, and its path carried in
`VelocityReport.chart_path`; `compute_velocity` stays pure and never draws.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from knowledge.models import JourneyMap
from skills.context import SkillContext
from skills.crm.records import Deal, Owner, Pipeline, owner_names
from skills.registry import Arg, Schedule, Skill, SkillInputError
from skills.stage_map import target_days_for
from skills.velocity_report import (
    Conversion,
    DaysStat,
    PeriodTotals,
    PipelineVelocity,
    StageVelocity,
    StalledDeal,
    VelocityReport,
    Window,
)

DAY_S = 86_400.0


def week_window(now: dt.datetime, week: str | None) -> Window:
    """The ISO week containing `week` (a date), else the last full week before `now`."""
    if week:
        try:
            day = dt.date.fromisoformat(week.strip())
        except ValueError:
            raise SkillInputError(f"--week must be a date like 2025-05-20 (got {week!r})") from None
    else:
        day = now.astimezone(dt.UTC).date() - dt.timedelta(days=7)
    monday = day - dt.timedelta(days=day.weekday())
    start = dt.datetime(monday.year, monday.month, monday.day, tzinfo=dt.UTC)
    if start > now:
        raise SkillInputError(f"--week {week} is in the future")
    return Window(start, start + dt.timedelta(days=7))


def compute_velocity(deals: Sequence[Deal], pipelines: Sequence[Pipeline], owners: Sequence[Owner],
                     journey_map: JourneyMap, window: Window, now: dt.datetime) -> VelocityReport:
    """The report for `window` and the window before it, one section per given pipeline."""
    previous = window.shifted(-1)
    names = owner_names(owners)
    by_pipeline: dict[str, list[Deal]] = defaultdict(list)
    for deal in deals:
        by_pipeline[deal.pipeline_id].append(deal)
    sections = tuple(_pipeline(p, by_pipeline.get(p.id, []), names, journey_map, (window, previous), now)
                     for p in pipelines)
    return VelocityReport(now, window, previous, sections)


def _pipeline(pipe: Pipeline, deals: list[Deal], names: dict[str, str], journey_map: JourneyMap,
              windows: tuple[Window, Window], now: dt.datetime) -> PipelineVelocity:
    open_stages = [s for s in pipe.stages if not s.is_closed]
    rank = {s.id: i for i, s in enumerate(open_stages)}
    won_ids = {s.id for s in pipe.stages if s.is_won}
    labels = {s.id: s.label for s in pipe.stages}
    targets = {s.id: target_days_for(journey_map, s.id) for s in open_stages}
    durations: list[dict[str, list[float]]] = [defaultdict(list), defaultdict(list)]
    cohorts: list[dict[str, list[int]]] = [defaultdict(lambda: [0, 0, 0, 0]) for _ in windows]
    closed = [0, 0]
    won = [0, 0]
    won_amount = [0.0, 0.0]
    lost = [0, 0]
    lost_amount = [0.0, 0.0]
    stalled_amount = [0.0, 0.0]
    cycles: list[list[float]] = [[], []]
    created = [0, 0]
    created_amount = [0.0, 0.0]
    stalled_at = [0, 0]
    ends = [min(w.end, now) for w in windows]
    stalled: list[StalledDeal] = []
    for deal in deals:
        times = deal.stage_times
        for stay in times:
            position = rank.get(stay.stage_id)
            if position is None:
                continue
            for k, w in enumerate(windows):
                if stay.exited_at is not None and w.start <= stay.exited_at < w.end:
                    durations[k][stay.stage_id].append((stay.exited_at - stay.entered_at).total_seconds() / DAY_S)
                if w.start <= stay.entered_at < w.end:
                    counts = cohorts[k][stay.stage_id]
                    counts[0] += 1
                    if deal.is_won or any(o.entered_at >= stay.entered_at and o.entered_at <= now and (
                            o.stage_id in won_ids or rank.get(o.stage_id, -1) > position) for o in times):
                        counts[1] += 1
                    elif deal.is_closed:
                        counts[2] += 1
                    else:
                        counts[3] += 1
        closed_at = (deal.close_date or deal.entered_current_stage) if deal.is_closed else None
        amount = deal.amount or 0.0
        for k, w in enumerate(windows):
            if closed_at is not None and w.start <= closed_at < w.end:
                closed[k] += 1
                if deal.is_won:
                    won[k] += 1
                    won_amount[k] += amount
                    if deal.created_at is not None:
                        cycles[k].append((closed_at - deal.created_at).total_seconds() / DAY_S)
                else:
                    lost[k] += 1
                    lost_amount[k] += amount
            if deal.created_at is not None and w.start <= deal.created_at < w.end:
                created[k] += 1
                created_amount[k] += amount
            if _stalled_at(deal, ends[k], rank, targets):
                stalled_at[k] += 1
                stalled_amount[k] += amount
        if not deal.is_closed and deal.stage_id in rank:
            target = targets.get(deal.stage_id)
            days = deal.days_in_current_stage(now)
            if target and days is not None and days > target:
                stalled.append(StalledDeal(deal.id, deal.name, deal.stage_id, labels[deal.stage_id], days, target,
                                           deal.owner_id, names.get(deal.owner_id or "", "unassigned"), deal.amount))
    rows = []
    for i, stage in enumerate(open_stages):
        nxt = open_stages[i + 1].label if i + 1 < len(open_stages) else next(
            (s.label for s in pipe.stages if s.is_won), None)
        stats = [DaysStat.of(durations[k].get(stage.id, [])) for k in (0, 1)]
        conv = [Conversion(*cohorts[k].get(stage.id, [0, 0, 0, 0])) for k in (0, 1)]
        rows.append(StageVelocity(stage.id, stage.label, targets[stage.id], nxt, stats[0], stats[1], conv[0], conv[1]))
    totals = [PeriodTotals(closed[k], won[k], won_amount[k], DaysStat.of(cycles[k]), created[k], created_amount[k],
                           stalled_at[k], lost[k], lost_amount[k], stalled_amount[k]) for k in (0, 1)]
    stalled.sort(key=lambda s: (-s.ratio, s.name))
    return PipelineVelocity(pipe.id, pipe.label, tuple(rows), totals[0], totals[1], tuple(stalled))


def _stalled_at(deal: Deal, at: dt.datetime, rank: dict[str, int], targets: dict[str, float | None]) -> bool:
    """Was the deal sitting in an open stage past its target at `at`?"""
    for stay in deal.stage_times:
        if stay.entered_at <= at and (stay.exited_at is None or stay.exited_at > at):
            target = targets.get(stay.stage_id) if stay.stage_id in rank else None
            if target and (at - stay.entered_at).total_seconds() / DAY_S > target:
                return True
    return False


def resolve_pipelines(pipelines: Sequence[Pipeline], wanted: str | None) -> list[Pipeline]:
    if not wanted:
        return list(pipelines)
    key = wanted.strip().lower()
    found = [p for p in pipelines if p.id.lower() == key or p.label.lower() == key]
    if not found:
        known = ", ".join(f"{p.label} ({p.id})" for p in pipelines)
        raise SkillInputError(f"unknown pipeline {wanted!r}; known pipelines: {known}")
    return found


def run_velocity(ctx: SkillContext, pipeline: str | None = None, week: str | None = None) -> VelocityReport:
    now = ctx.now
    window = week_window(now, week)
    gateway = ctx.gateway
    chosen = resolve_pipelines(gateway.pipelines(), pipeline)
    report = compute_velocity(gateway.deals(), chosen, gateway.owners(), ctx.journey_map, window, now)
    if not report.pipelines or ctx.reports_dir is None:  # no chart to draw, or nobody asked for it
        return report
    from skills.velocity_chart import chart_name, write_velocity_chart

    first = report.pipelines[0]
    path = write_velocity_chart(ctx.reports_dir / chart_name(now, first.pipeline_id), report, first)
    return replace(report, chart_path=path)


SKILL = Skill(
    name="velocity",
    help="Weekly pipeline velocity: days in stage, conversion, win rate, cycle, created/won, stalled deals.",
    run=run_velocity,
    args=(
        Arg("pipeline", "one pipeline (id or label); default: every pipeline"),
        Arg("week", "any date (YYYY-MM-DD) in the week to report; default: the last full week"),
    ),
    needs_crm=True,
    schedule=Schedule("digest", "0 9 * * mon", aliases=("velocity",), filters=("pipeline",)),
    examples=("velocity", "velocity --pipeline 'Sales Pipeline' --week 2025-05-20"),
    report_files=True,
    utterances=(
        "how are we tracking this week?",
        "did we hit our numbers last week",
        "pipeline velocity report",
        "which deals are stalled",
        "what's our win rate",
        "how long do deals sit in each stage",
        "stage to stage conversion for last week",
        "hi, could you pull the weekly pipeline numbers please?",
        "how fast are deals moving",
        "what's our average sales cycle these days",
        "how much pipeline did we create vs close {time}",
        "any deals stuck past target?",
        "velocity {time}",
        "wekly pipeline summary",
        "are deals slowing down compared to the week before",
        "how did the team do {time}",
        'deals with no movement for a while',
        'any deals stuck in trial',
        "how is {owner}'s pipeline progressing",
        '{owner}: stalled vs moving deals {time}',
        'how many deals did we close {time}',
        "what's the average time from first meeting to close",
        'where do deals get stuck in our funnel',
        'which deals have been sitting in negotiation too long',
        'conversion from demo to proposal?',
        "how's the quarter shaping up pipeline-wise",
        'deals created this month vs last month',
        'how much did we win {time}',
        'give me the pipeline digest',
        'which reps have stalled deals',
        'are we moving deals faster than last quarter?',
        'days in stage by pipeline stage',
        "how's the forecast looking for the team {time}",
        'win rate trend pls',
    ),
)
