"""Extractive answers (no LLM): structured, with numbered sources; honest when the map
does not cover a question; logged."""

from __future__ import annotations

from typing import Any

from storage.engine import session_scope
from storage.question_log import list_questions


def test_answer_has_stage_persona_and_numbered_sources(sample_service: Any) -> None:
    answer = sample_service.asker.ask("CFO keeps asking about ROI, what do I send?", channel="C1", user="U1")
    assert answer.answered and answer.stage_id == "decision" and answer.persona_id == "finance"
    assert [s.n for s in answer.sources] == list(range(1, len(answer.sources) + 1))
    assert any(s.ref_id in {"as-roi-calculator", "as-tco-model", "as-economic-impact-study"} for s in answer.sources)
    assert all(s.url.startswith("https://") for s in answer.sources)
    assert "[1]" in answer.text and answer.stage_name in answer.text
    assert 0.0 < answer.confidence <= 1.0 and not answer.used_llm
    with session_scope(sample_service.engine) as session:
        logged = list_questions(session, limit=1)[0]
    assert logged.question.startswith("CFO keeps") and logged.stage_id == "decision" and logged.channel == "C1"
    assert logged.top_sources == [s.ref_id for s in answer.sources]


def test_stage_meaning(sample_service: Any) -> None:
    answer = sample_service.asker.ask("what does the consideration stage mean?")
    stage = sample_service.live.current().journey_map.stage("consideration")
    assert answer.stage_id == "consideration" and stage.definition in answer.text
    assert answer.open_questions and all(q in {x.text for x in stage.questions} for q in answer.open_questions)


def test_unrelated_question_is_not_answered_and_is_logged_as_such(sample_service: Any) -> None:
    answer = sample_service.asker.ask("what's a good recipe for banana bread?")
    assert not answer.answered and not answer.sources
    assert "does not cover" in answer.text
    with session_scope(sample_service.engine) as session:
        unanswered = list_questions(session, unanswered_only=True)
    assert any(e.question == "what's a good recipe for banana bread?" for e in unanswered)


def test_an_inferred_stage_names_the_next_likeliest_in_the_cli_text(sample_service: Any) -> None:
    from cli.text.ask import render
    from knowledge.answers import OTHER_STAGES

    answer = sample_service.asker.ask("kick off deck?")
    assert answer.stage_how == "inferred" and len(answer.other_stages) == OTHER_STAGES == 3
    a, b, c = (f"--stage {o.id}" for o in answer.other_stages)
    assert f"Not {answer.stage_name}? Ask again with {a}, {b} or {c}." in render(answer)
