"""What the content-gap audit reports, and how it is built from matched questions (pure:
no files, no database, no CRM). `skills.gaps` is the skill that gathers the inputs."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from knowledge.models import JourneyMap, Stage
from skills.coverage import SEMANTIC_THRESHOLD, THIN_CELL_MAX, Match, cell_counts, fits, months_before, stale_assets
from skills.influence_report import InfluenceReport
from skills.registry import SkillInputError

RankedBy = Literal["conversion", "stage_order"]


@dataclass(frozen=True, kw_only=True)
class PersonaCoverage:
    """Questions a persona asks (a question with no personas is everyone's) and how many
    are answered; `assets` is the count of assets that fit it (0 = empty cell)."""

    persona_id: str
    persona_name: str
    questions: int
    answered: int
    coverage_pct: float
    unanswered: tuple[str, ...]
    assets: int = 0

    @property
    def short_name(self) -> str:
        """"Financial gatekeeper" of "Financial gatekeeper (CFO, FP&A, procurement)"."""
        return self.persona_name.split(" (")[0]


@dataclass(frozen=True, kw_only=True)
class StaleAsset:
    id: str
    title: str
    stages: tuple[str, ...]
    owner: str
    last_reviewed: dt.date


@dataclass(frozen=True, kw_only=True)
class SlackQuestion:
    """An unanswered question from the log; `times_asked` counts its duplicates."""

    question: str
    last_asked: dt.datetime
    times_asked: int
    stage_id: str | None
    persona_id: str | None
    channel: str | None
    source: str = "slack"  # where it was asked: slack, cli, ... ("slack+cli" when both)


@dataclass(frozen=True, kw_only=True)
class StageGap:
    rank: int
    stage_id: str
    stage_name: str
    order: int
    conversion: float | None
    questions: int
    answered: int
    coverage_pct: float
    unanswered: tuple[Match, ...]
    empty_personas: tuple[str, ...]
    thin_personas: tuple[str, ...]
    personas: tuple[PersonaCoverage, ...]  # most unanswered first
    stale_assets: tuple[StaleAsset, ...]
    slack_questions: tuple[SlackQuestion, ...]

    @property
    def has_gaps(self) -> bool:
        return bool(self.unanswered or self.empty_personas or self.thin_personas or self.stale_assets or self.slack_questions)


@dataclass(frozen=True, kw_only=True)
class GapReport:
    generated_at: dt.datetime
    map_name: str
    map_version: str
    threshold: float
    stale_months: int
    stale_cutoff: dt.date
    ranked_by: RankedBy
    questions: int
    answered: int
    explicit: int
    semantic: int
    coverage_pct: float
    stages: tuple[StageGap, ...]  # ranked, most urgent first
    personas: tuple[PersonaCoverage, ...]
    cells: dict[str, dict[str, int]]  # stage id -> persona id -> assets, map order
    empty_cells: tuple[tuple[str, str], ...]  # (stage id, persona id)
    stale_assets: tuple[StaleAsset, ...]
    slack_questions: tuple[SlackQuestion, ...]  # most recent first
    question_status: tuple[Match, ...]  # every buyer question, map order
    heatmap_path: Path | None = None
    csv_path: Path | None = None
    notes: tuple[str, ...] = ()
    influence: InfluenceReport | None = None  # what reps sent and how it converted (CRM and sends needed)
    stage_id: str | None = None  # the audit was asked for one stage ("gaps in decision") ...
    persona_id: str | None = None  # ... and/or one persona ("gaps for the CFO")

    @property
    def focus(self) -> str:
        """What the audit was narrowed to ("Decision stage, Financial gatekeeper"), or ""."""
        parts = [f"{self.stages[0].stage_name} stage" if self.stage_id and self.stages else "",
                 self.personas[0].short_name if self.persona_id and self.personas else ""]
        return ", ".join(p for p in parts if p)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = _plain(dataclasses.replace(self, influence=None))
        out["stages"] = [{**_plain(s), "has_gaps": s.has_gaps} for s in self.stages]
        out["influence"] = self.influence.to_dict() if self.influence else None
        return out


def _plain(value: Any) -> Any:
    """JSON-safe copy: dataclasses to dicts (Match through its own to_dict), dates as
    ISO strings, paths as strings, tuples as lists."""
    if isinstance(value, Match):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 100.0


def _persona_coverage(journey_map: JourneyMap, matches: Sequence[Match], cells: Mapping[str, int]) -> list[PersonaCoverage]:
    out: list[PersonaCoverage] = []
    for persona in journey_map.personas:
        asked = [m for m in matches if not m.personas or persona.id in m.personas]
        missing = tuple(m.question_id for m in asked if m.answered == "none")
        answered = len(asked) - len(missing)
        out.append(PersonaCoverage(persona_id=persona.id, persona_name=persona.name, questions=len(asked),
                                   answered=answered, coverage_pct=_pct(answered, len(asked)), unanswered=missing,
                                   assets=cells.get(persona.id, 0)))
    return out


def _check_conversion(journey_map: JourneyMap, conversion: Mapping[str, float] | None) -> tuple[dict[str, float], list[str]]:
    if not conversion:
        return {}, []
    known = {s.id for s in journey_map.stages}
    bad = {k: v for k, v in conversion.items() if not 0.0 <= float(v) <= 1.0}
    if bad:
        raise SkillInputError(f"conversion rates must be between 0 and 1 (got {bad})")
    unknown = sorted(set(conversion) - known)
    notes = [f"conversion given for stages not in the map, ignored: {', '.join(unknown)}"] if unknown else []
    return {k: float(v) for k, v in conversion.items() if k in known}, notes


def _stage_gap(
    stage: Stage,
    journey_map: JourneyMap,
    matches: Sequence[Match],
    cells: Mapping[str, int],
    stale: Sequence[StaleAsset],
    slack: Sequence[SlackQuestion],
    conversion: float | None,
) -> StageGap:
    own = [m for m in matches if m.stage_id == stage.id]
    unanswered = tuple(m for m in own if m.answered == "none")
    personas = sorted(
        _persona_coverage(journey_map, own, cells),
        key=lambda p: (-len(p.unanswered), [q.id for q in journey_map.personas].index(p.persona_id)),
    )
    return StageGap(
        rank=0,
        stage_id=stage.id,
        stage_name=stage.name,
        order=stage.order,
        conversion=conversion,
        questions=len(own),
        answered=len(own) - len(unanswered),
        coverage_pct=_pct(len(own) - len(unanswered), len(own)),
        unanswered=unanswered,
        empty_personas=tuple(p for p, n in cells.items() if n == 0),
        thin_personas=tuple(p for p, n in cells.items() if 0 < n <= THIN_CELL_MAX),
        personas=tuple(personas),
        stale_assets=tuple(a for a in stale if stage.id in a.stages),
        slack_questions=tuple(q for q in slack if q.stage_id == stage.id),
    )


def build_report(
    journey_map: JourneyMap,
    matches: Sequence[Match],
    *,
    now: dt.datetime,
    stale_months: int = 12,
    conversion: Mapping[str, float] | None = None,
    slack_questions: Sequence[SlackQuestion] = (),
    threshold: float = SEMANTIC_THRESHOLD,
    stage_id: str | None = None,
    persona_id: str | None = None,
) -> GapReport:
    """The audit from already-matched questions; writes no files (run_gaps does).
    `stage_id` / `persona_id` narrow it to one stage and/or one persona: their questions
    (a question for no persona in particular is everyone's), cells, stale assets and logged
    questions; the ranking and the figures are then of that part alone."""
    if stale_months < 0:
        raise SkillInputError(f"--stale_months must be 0 or more (got {stale_months})")
    rates, notes = _check_conversion(journey_map, conversion)
    if stage_id or persona_id:
        journey_map, matches, slack_questions = _focus(journey_map, matches, slack_questions, stage_id, persona_id)
    cutoff = months_before(now.date(), stale_months)
    stale = tuple(StaleAsset(id=a.id, title=a.title, stages=tuple(a.stages), owner=a.owner, last_reviewed=a.last_reviewed)
                  for a in stale_assets(journey_map, cutoff))
    cells = cell_counts(journey_map)
    stages = sorted(journey_map.stages, key=lambda s: s.order)
    gaps = [_stage_gap(s, journey_map, matches, cells[s.id], stale, slack_questions, rates.get(s.id)) for s in stages]
    if rates:
        gaps.sort(key=lambda g: (g.conversion is None, g.conversion or 0.0, -len(g.unanswered), g.order))
    ranked = tuple(dataclasses.replace(g, rank=i) for i, g in enumerate(gaps, start=1))
    answered = sum(m.answered != "none" for m in matches)
    all_cells = {p.id: sum(not a.personas or p.id in a.personas for a in journey_map.assets) for p in journey_map.personas}
    return GapReport(
        generated_at=now,
        map_name=journey_map.name,
        map_version=journey_map.version,
        threshold=threshold,
        stale_months=stale_months,
        stale_cutoff=cutoff,
        ranked_by="conversion" if rates else "stage_order",
        questions=len(matches),
        answered=answered,
        explicit=sum(m.answered == "explicit" for m in matches),
        semantic=sum(m.answered == "semantic" for m in matches),
        coverage_pct=_pct(answered, len(matches)),
        stages=ranked,
        personas=tuple(_persona_coverage(journey_map, matches, all_cells)),
        cells=cells,
        empty_cells=tuple((s, p) for s, row in cells.items() for p, n in row.items() if n == 0),
        stale_assets=stale,
        slack_questions=tuple(slack_questions),
        question_status=tuple(matches),
        notes=tuple(notes),
        stage_id=stage_id,
        persona_id=persona_id,
    )


def _focus(
    journey_map: JourneyMap, matches: Sequence[Match], slack: Sequence[SlackQuestion], stage_id: str | None,
    persona_id: str | None,
) -> tuple[JourneyMap, list[Match], list[SlackQuestion]]:
    """The map, matches and logged questions of one stage and/or persona. The assets kept
    are those that count in one of the narrowed map's cells (`fits`)."""
    def for_persona(personas: Sequence[str]) -> bool:  # a question for no persona in particular is everyone's
        return persona_id is None or not personas or persona_id in personas

    stages = [s for s in journey_map.stages if stage_id in (None, s.id)]
    personas = [p for p in journey_map.personas if persona_id in (None, p.id)]
    focused = journey_map.model_copy(update={
        "stages": stages, "personas": personas,
        "assets": [a for a in journey_map.assets if any(fits(a, s.id, p.id) for s in stages for p in personas)],
    })
    kept = [m for m in matches if stage_id in (None, m.stage_id) and for_persona(m.personas)]
    logged = [q for q in slack if stage_id in (None, q.stage_id) and persona_id in (None, q.persona_id)]
    return focused, kept, logged


PLACES = {"slack": "Slack", "cli": "the CLI"}


def asked_where(questions: Sequence[SlackQuestion]) -> str:
    """"Asked in Slack", "Asked in the CLI", "Asked in Slack and the CLI": from the log's sources."""
    sources = sorted({s for q in questions for s in q.source.split("+")}, key=lambda s: (s != "slack", s))
    places = [PLACES.get(s, s) for s in sources] or ["Slack"]
    return "Asked in " + (" and ".join(places) if len(places) < 3 else ", ".join(places[:-1]) + " and " + places[-1])
