"""The content-gap audit on the sample map, whose gaps are planted: consideration x
technical evaluator nearly empty, co-q04..co-q08 unanswered, four empty cells, stale
assets. The audit must find them and raise nothing the data does not support."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import matplotlib.image
import pytest
import yaml

from cli.text.gaps import render
from config import Settings
from knowledge.catalog import UnknownReference
from knowledge.models import JourneyMap
from knowledge.service import KnowledgeService
from skills.context import SkillContext
from skills.coverage import SEMANTIC_THRESHOLD, THIN_CELL_MAX, Match, match_questions, months_before, similarity
from skills.gap_report import GapReport, build_report
from skills.gaps import SKILL, run_gaps
from skills.registry import SkillInputError, parse_args
from storage.engine import session_scope
from storage.question_log import record_question
from tests.conftest import SAMPLE_MAP

NOW = dt.datetime(2026, 6, 15, 9, 0, tzinfo=dt.UTC)
CONVERSION = {"awareness": 0.4, "research": 0.35, "consideration": 0.3, "decision": 0.08, "onboarding": 0.9}
PLANTED_EMPTY = {
    ("expansion", "technical-evaluator"),
    ("advocacy", "finance"),
    ("advocacy", "technical-evaluator"),
    ("decision", "end-user"),
}


@pytest.fixture(scope="module")
def raw_map() -> dict[str, Any]:
    """The sample map as plain YAML, for counts made independently of the skill."""
    return yaml.safe_load(SAMPLE_MAP.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def tag() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def ctx(sample_service: Any, tmp_path_factory: pytest.TempPathFactory) -> SkillContext:
    data_dir = tmp_path_factory.mktemp("gaps")
    settings = Settings.from_mapping({**sample_service.settings.model_dump(), "data_dir": data_dir})
    return SkillContext(settings, KnowledgeService(settings, engine=sample_service.engine), clock=lambda: NOW,
                        reports_dir=data_dir / "out")


@pytest.fixture(scope="module")
def report(ctx: SkillContext, tag: str) -> GapReport:
    with session_scope(ctx.engine) as session:
        for text, answered in [
            (f"Does Fieldline support SCIM {tag}?", False),
            (f"Is there a Tableau connector {tag}?", False),
            (f"does fieldline support  scim {tag}", False),
            (f"What does the ROI calculator show {tag}?", True),
        ]:
            record_question(
                session, question=text, stage_id="consideration", persona_id=None, top_sources=[],
                confidence=0.1, answered=answered, latency_ms=5.0, channel="C1",
            )
    return run_gaps(ctx, stale_months=12, conversion=CONVERSION)


@pytest.fixture(scope="module")
def journey_map(ctx: SkillContext) -> JourneyMap:
    return ctx.journey_map


def by_question(report: GapReport) -> dict[str, Match]:
    return {m.question_id: m for m in report.question_status}


def test_planted_consideration_gap_is_reported(report: GapReport) -> None:
    status = by_question(report)
    for qid in ("co-q04", "co-q05", "co-q06", "co-q07", "co-q08"):
        assert status[qid].answered == "none"
        assert status[qid].label == "none"
        assert status[qid].asset_ids == ()
    consideration = next(g for g in report.stages if g.stage_id == "consideration")
    assert {"co-q04", "co-q05", "co-q06", "co-q07", "co-q08"} <= {m.question_id for m in consideration.unanswered}
    assert report.cells["consideration"]["technical-evaluator"] <= THIN_CELL_MAX
    assert "technical-evaluator" in consideration.thin_personas + consideration.empty_personas
    worst = consideration.personas[0]
    assert worst.persona_id == "technical-evaluator" and len(worst.unanswered) >= 5


def test_empty_cells_are_exactly_the_planted_ones(report: GapReport, raw_map: dict[str, Any]) -> None:
    assert set(report.empty_cells) == PLANTED_EMPTY
    for stage_id, persona_id in PLANTED_EMPTY:
        assert not [
            a for a in raw_map["assets"]
            if stage_id in a["stages"] and (not a.get("personas") or persona_id in a["personas"])
        ]


def test_no_unsupported_findings(report: GapReport, raw_map: dict[str, Any]) -> None:
    linked = {q for a in raw_map["assets"] for q in a.get("answers", [])}
    status = by_question(report)
    reported = {m.question_id for g in report.stages for m in g.unanswered}
    assert not linked & reported, "an explicitly answered question was reported as a gap"
    assert all(status[q].answered == "explicit" for q in linked)
    for m in report.question_status:
        if m.answered == "semantic":
            assert m.score is not None and m.score >= SEMANTIC_THRESHOLD
            assert m.label.startswith(f"semantic ({m.score:.2f}, ")
    all_questions = {q["id"] for s in raw_map["stages"] for q in s.get("questions", [])}
    assert report.questions == len(all_questions)
    assert reported == {q for q in all_questions - linked if status[q].answered == "none"}
    assert report.answered == report.explicit + report.semantic


def test_semantic_match_above_threshold_is_labelled(journey_map: JourneyMap, ctx: SkillContext) -> None:
    """Hide one explicit link whose asset scores above the threshold: the question must
    then be covered semantically by that asset, and say so."""
    scores = similarity(journey_map, ctx.knowledge.embeddings)
    questions = journey_map.questions()
    candidates = [
        (float(scores[r, c]), q.id, a)
        for r, (_, q) in enumerate(questions)
        for c, a in enumerate(journey_map.assets)
        if q.id in a.answers and sum(q.id in b.answers for b in journey_map.assets) == 1
    ]
    score, qid, asset = max(candidates, key=lambda t: t[0])
    assert score >= SEMANTIC_THRESHOLD
    stripped = asset.model_copy(update={"answers": [x for x in asset.answers if x != qid]})
    changed = journey_map.model_copy(
        update={"assets": [stripped if a.id == asset.id else a for a in journey_map.assets]}
    )
    match = next(m for m in match_questions(changed, scores) if m.question_id == qid)
    assert match.answered == "semantic"
    assert match.asset_ids[0] == asset.id
    assert match.label == f"semantic ({score:.2f}, {asset.id})"


def test_ranking_by_conversion_then_stage_order(report: GapReport, journey_map: JourneyMap) -> None:
    assert report.ranked_by == "conversion"
    assert report.stages[0].stage_id == "decision"
    assert [g.stage_id for g in report.stages[:5]] == sorted(CONVERSION, key=CONVERSION.__getitem__)
    assert [g.rank for g in report.stages] == list(range(1, len(journey_map.stages) + 1))
    plain = build_report(journey_map, report.question_status, now=NOW)
    assert plain.ranked_by == "stage_order"
    assert [g.stage_id for g in plain.stages] == [s.id for s in sorted(journey_map.stages, key=lambda s: s.order)]
    for gap in plain.stages:
        counts = [len(p.unanswered) for p in gap.personas]
        assert counts == sorted(counts, reverse=True)


def test_conversion_is_checked(report: GapReport, journey_map: JourneyMap) -> None:
    with pytest.raises(SkillInputError):
        build_report(journey_map, report.question_status, now=NOW, conversion={"decision": 1.5})
    noted = build_report(journey_map, report.question_status, now=NOW, conversion={"nowhere": 0.1, "research": 0.2})
    assert noted.stages[0].stage_id == "research" and "nowhere" in noted.notes[0]


@pytest.mark.parametrize(
    ("months", "cutoff"), [(12, dt.date(2025, 6, 15)), (6, dt.date(2025, 12, 15)), (24, dt.date(2024, 6, 15))]
)
def test_stale_assets_are_those_before_the_cutoff(
    report: GapReport, journey_map: JourneyMap, raw_map: dict[str, Any], months: int, cutoff: dt.date
) -> None:
    expected = {a["id"] for a in raw_map["assets"] if a["last_reviewed"] < cutoff}
    result = build_report(journey_map, report.question_status, now=NOW, stale_months=months)
    assert result.stale_cutoff == cutoff
    assert {a.id for a in result.stale_assets} == expected
    if months == 12:
        assert {a.id for a in report.stale_assets} == expected
        assert len(expected) == sum(a["last_reviewed"] < dt.date(2025, 6, 1) for a in raw_map["assets"]) == 11


def test_months_before_clamps_to_month_end() -> None:
    assert months_before(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert months_before(dt.date(2026, 1, 15), 13) == dt.date(2024, 12, 15)


def test_heatmap_png_is_valid(report: GapReport, ctx: SkillContext) -> None:
    path = report.heatmap_path
    assert path is not None and path.parent == ctx.reports_dir
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 300 and image.shape[1] > 600


def test_a_persona_s_heatmap_has_that_persona_s_column_only(ctx: SkillContext, report: GapReport) -> None:
    """Narrowed to one persona, the picture is one column wide (it was five, labelled by the
    whole map's personas, the first one over the narrowed counts)."""
    narrowed = run_gaps(ctx, persona="IT")
    assert narrowed.heatmap_path is not None and narrowed.heatmap_path.name == "gaps-technical-evaluator-20260615-090000.png"
    whole = matplotlib.image.imread(report.heatmap_path)
    one = matplotlib.image.imread(narrowed.heatmap_path)
    assert one.shape[1] < whole.shape[1] / 2  # figure width grows by column


def test_csv_has_one_row_per_question(report: GapReport, raw_map: dict[str, Any]) -> None:
    assert report.csv_path is not None and report.csv_path.parent == report.heatmap_path.parent  # type: ignore[union-attr]
    with report.csv_path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    ids = [q["id"] for s in raw_map["stages"] for q in s.get("questions", [])]
    assert [r["question_id"] for r in rows] == ids
    row = next(r for r in rows if r["question_id"] == "co-q04")
    assert (row["stage"], row["answered"], row["asset_ids"], row["personas"]) == (
        "consideration", "none", "", "technical-evaluator"
    )
    assert {r["answered"] for r in rows} <= {"explicit", "semantic", "none"}


def test_unanswered_slack_questions_appear(report: GapReport, tag: str) -> None:
    ours = [q for q in report.slack_questions if tag in q.question]
    assert [q.question for q in ours] == [f"does fieldline support  scim {tag}", f"Is there a Tableau connector {tag}?"]
    assert ours[0].times_asked == 2 and ours[1].times_asked == 1
    consideration = next(g for g in report.stages if g.stage_id == "consideration")
    assert {q.question for q in ours} <= {q.question for q in consideration.slack_questions}
    assert all(tag not in q.question or "ROI" not in q.question for q in report.slack_questions)


def test_to_dict_and_render(report: GapReport, tag: str) -> None:
    data = json.loads(json.dumps(report.to_dict()))
    assert data["stages"][0]["stage_id"] == "decision" and "has_gaps" in data["stages"][0]
    assert data["heatmap_path"].endswith(".png") and data["csv_path"].endswith(".csv")
    assert 0 < data["coverage_pct"] < 100
    text = render(report)
    assert "co-q04" in text and "Consideration" in text and tag in text
    assert str(report.heatmap_path) in text


def test_without_a_reports_folder_no_file_is_written(ctx: SkillContext) -> None:
    """A CLI run that asked for no files (no --out) leaves none behind; the JSON keeps its keys."""
    def files() -> list[Path]:
        return sorted(p for p in Path(ctx.settings.data_dir).rglob("*") if p.suffix in (".png", ".csv"))

    before = files()
    report = run_gaps(dataclasses.replace(ctx, reports_dir=None))
    assert report.heatmap_path is None and report.csv_path is None
    data = report.to_dict()
    assert data["heatmap_path"] is None and data["csv_path"] is None
    assert files() == before and not (Path(ctx.settings.data_dir) / "reports").exists()
    assert "Heatmap and CSV: add --out DIR to write them" in render(report)


def test_skill_declaration() -> None:
    assert SKILL.name == "gaps" and not SKILL.needs_crm and SKILL.default_schedule == "0 9 1 * *"
    assert parse_args(SKILL, "") == {"stale_months": 12, "stage": None, "persona": None}
    assert parse_args(SKILL, "--stale_months 6")["stale_months"] == 6
    assert parse_args(SKILL, "--stage decision --persona finance") == {"stale_months": 12, "stage": "decision",
                                                                       "persona": "finance"}


def test_a_stage_and_a_persona_narrow_the_audit(ctx: SkillContext, report: GapReport, raw_map: dict[str, Any], tag: str) -> None:
    """"gaps in consideration for IT": that stage's questions for that persona or for everyone,
    its one cell, its stale assets and logged questions; counted from the YAML, not the skill."""
    focused = run_gaps(dataclasses.replace(ctx, reports_dir=None), conversion=CONVERSION, stage="Consideration",
                       persona="IT")
    assert (focused.stage_id, focused.persona_id) == ("consideration", "technical-evaluator")
    assert focused.focus == "Consideration stage, Technical evaluator"
    stage = next(s for s in raw_map["stages"] if s["id"] == "consideration")
    expected = {q["id"] for q in stage.get("questions", [])
                if not q.get("personas") or "technical-evaluator" in q["personas"]}
    assert {m.question_id for m in focused.question_status} == expected and focused.questions == len(expected)
    assert [g.stage_id for g in focused.stages] == ["consideration"]
    assert [p.persona_id for p in focused.personas] == ["technical-evaluator"]
    assert focused.cells == {"consideration": {"technical-evaluator": report.cells["consideration"]["technical-evaluator"]}}
    unanswered = {m.question_id for m in focused.stages[0].unanswered}
    assert {"co-q04", "co-q05", "co-q06", "co-q07", "co-q08"} & expected <= unanswered
    assert {m.question_id for m in by_question(report).values() if m.answered == "none"} & expected == unanswered
    assert all("consideration" in a.stages for a in focused.stale_assets)
    assert not focused.slack_questions  # the logged questions were asked for no persona in particular
    assert render(focused).startswith("Content gaps for Consideration stage, Technical evaluator:")
    whole_stage = run_gaps(dataclasses.replace(ctx, reports_dir=None), stage="consideration")
    assert any(f"scim {tag}" in q.question.lower() for q in whole_stage.slack_questions)
    assert whole_stage.questions == len(stage.get("questions", [])) and whole_stage.focus == "Consideration stage"


def test_an_unknown_stage_or_persona_is_named(ctx: SkillContext) -> None:
    with pytest.raises(UnknownReference, match="unknown stage 'nosuch'"):
        run_gaps(dataclasses.replace(ctx, reports_dir=None), stage="nosuch")
    with pytest.raises(UnknownReference, match="unknown persona 'janitor'"):
        run_gaps(dataclasses.replace(ctx, reports_dir=None), persona="janitor")
