"""Stage and persona detection from the way reps actually type."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.detection import Detector
from knowledge.text import normalize
from knowledge.validation import load_map

SAMPLE = Path(__file__).resolve().parents[2] / "knowledge" / "data" / "sample_map.yaml"


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(load_map(SAMPLE).journey_map)


@pytest.mark.parametrize(
    "text,stage",
    [
        ("what does the research stage mean?", "research"),
        ("what matters to IT in consideration?", "consideration"),
        ("what matters to IT in considreation?", "consideration"),
        ("deal is in contract sent, procurement wants docs", "decision"),
        ("deal moved to Decision Maker Bought In", "decision"),
        ("they're in appointment scheduled", "consideration"),
        ("just went closed won, what now", "onboarding"),
        ("lots of MQLs from the webinar, what next", "research"),
        ("customer in the adoption stage", "adoption"),
        ("<@U123> what's good for *onboarding*? :rocket:", "onboarding"),
        # A word before "stage" sharing its stem with a one-word alias ("contracting", "renewal").
        ("how do I build urgency right at the contract stage", "decision"),
        ("they're at the contracts stage", "decision"),
        ("anything for the renewals phase?", "expansion"),
        ("what do they need in the evaluating stage", "consideration"),
    ],
)
def test_stage_named(detector: Detector, text: str, stage: str) -> None:
    assert detector.detect(normalize(text)).stage_id == stage


@pytest.mark.parametrize(
    "text,persona",
    [
        ("CFO keeps asking about ROI, what do I send?", "finance"),
        ("procurement wants the security docs", "finance"),
        ("what matters to IT in consideration?", "technical-evaluator"),
        ("the CISO is blocking", "technical-evaluator"),
        ("our champion needs a deck", "champion"),
        ("VP of Sales wants proof", "economic-buyer"),
        ("sales managers complain about spreadsheets", "end-user"),
        ("the chmpion needs a deck", "champion"),
    ],
)
def test_persona_named(detector: Detector, text: str, persona: str) -> None:
    assert detector.detect(normalize(text)).persona_id == persona


@pytest.mark.parametrize(
    "text", ["what sales stage is the deal in?", "the account stage", "contract review is next", "a closed stage"]
)
def test_a_word_before_stage_names_none_unless_it_shares_one_stages_stem(detector: Detector, text: str) -> None:
    assert detector.detect(normalize(text)).stage_id is None


def test_the_same_words_can_name_a_stage_and_a_persona(detector: Detector) -> None:
    # "procurement": an alias of the Decision stage and of the financial gatekeeper.
    detection = detector.detect(normalize("procurement sent over their vendor onboarding forms and wants our MSA"))
    assert (detection.stage_id, detection.persona_id) == ("decision", "finance")
    assert detection.stage_phrase == "procurement" and detection.persona_phrase == "procurement"


def test_decision_maker_is_a_persona_not_the_decision_stage(detector: Detector) -> None:
    detection = detector.detect("the decision maker wants a reference call")
    assert detection.persona_id == "economic-buyer"
    assert detection.stage_id is None


@pytest.mark.parametrize("text", ["how are you today", "what's the weather in Paris", "precision of the model"])
def test_nothing_named(detector: Detector, text: str) -> None:
    detection = detector.detect(text)
    assert detection.stage_id is None


def test_slack_markup_is_stripped() -> None:
    text = "<@U123ABC> hey :wave: send the *CFO* in <#C01|deals> <https://acme.com|Acme> 🚀 https://x.y/z &amp; more"
    assert normalize(text) == "hey send the CFO in deals Acme & more"
