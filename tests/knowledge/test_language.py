"""The English-only check: other languages are recognised on the held-out test split,
English (however terse) never is, and a question in German gets the English-only note
instead of retrieved nonsense."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from bench.language import evaluate
from knowledge.language import LanguageDetector, detector_for
from storage.engine import session_scope
from storage.question_log import list_questions


@pytest.fixture(scope="module")
def detector(model_dir: Path) -> LanguageDetector:
    return detector_for(model_dir)


def test_test_split_floors(detector: LanguageDetector) -> None:
    result = evaluate(detector, "test")
    assert result.non_english >= 60 and result.english >= 500
    assert result.recall >= 0.95, result.missed
    assert len(result.false_positives) <= 1, result.false_positives


@pytest.mark.parametrize(
    "text",
    [
        "kick off deck?",
        "waht do finance ppl care about",
        "Northwind EMEA expansion: who haven't we reached?",
        "ROI calc for CFO pls",
        "how ready is Société Générale?",
        "Fjällräven Logistik at risk?",
        "next steps with société générale",
        "<@U0JOURNEY> account Initech",
        "thx",
        "",
    ],
)
def test_terse_english_with_names_is_english(detector: LanguageDetector, text: str) -> None:
    check = detector.check(text)
    assert check.english and check.language == "en", check


@pytest.mark.parametrize(
    "text,language",
    [
        ("Der CFO fragt ständig nach dem ROI, was soll ich ihm schicken?", "de"),
        ("¿Qué contenido encaja en la fase de evaluación?", "es"),
        ("評価段階に合うコンテンツはありますか？", "ja"),
        ("Какой контент подходит для этапа оценки?", "ru"),
    ],
)
def test_other_languages_are_named(detector: LanguageDetector, text: str, language: str) -> None:
    check = detector.check(text)
    assert not check.english and check.language == language and check.confidence >= 0.9, check


def test_check_is_deterministic_and_fast(detector: LanguageDetector) -> None:
    text = " ".join(["Welche Inhalte passen für die Evaluierungsphase, wenn der CFO nach dem ROI fragt?"] * 3)
    assert len(text.split()) >= 30
    first = detector.check(text)
    started = time.perf_counter()
    for _ in range(200):
        assert detector.check(text) == first
    assert (time.perf_counter() - started) / 200 < 0.005


def test_a_german_question_gets_the_english_only_answer(sample_service: Any) -> None:
    question = "Was soll ich dem Finanzvorstand schicken, der ständig nach dem ROI fragt?"
    answer = sample_service.asker.ask(question, channel="C1", user="U1")
    assert not answer.answered and answer.language == "de"
    assert not answer.sources and answer.stage_id is None and answer.log_id is None
    assert "German" in answer.text and "English only" in answer.text and "ask again in English" in answer.text
    with session_scope(sample_service.engine) as session:
        assert all(entry.question != question for entry in list_questions(session, limit=1000))


def test_an_english_question_is_still_answered(sample_service: Any) -> None:
    answer = sample_service.asker.ask("ROI calc for CFO pls", log=False)
    assert answer.answered and answer.language is None and answer.sources
