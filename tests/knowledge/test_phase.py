"""Which side of the sale a question stands on, and the stage right at the signature."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.phase import boundary_stage, question_phase, signing_side, stage_phase
from knowledge.validation import load_map

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "text,side",
    [
        ("CFO wants a payback period before signing. what do I send", "pre"),
        ("what does he need to see before he signs?", "pre"),
        ("asked for a timeline before they'll put pen to paper", "pre"),
        ("signed last week, their team wants to import historical pipeline", "post"),
        ("they just signed!! what's next?", "post"),
        ("anything for customers right after they sign?", "post"),
        ("new customer's managers want training materials", "post"),
        ("manager at a brand new customer asking how to run their first forecast call", "post"),
        ("anything that helps marketing win new customers?", None),
        ("signed two years ago, renewal is coming", None),
        ("what do I send before the demo?", None),
        ("signed last week but wants changes before signing the order form", None),
    ],
)
def test_the_side_of_the_signature_a_question_stands_on(text: str, side: str | None) -> None:
    assert signing_side(text) == side


def test_the_boundary_stages_come_from_the_maps_order_and_phases() -> None:
    journey_map = load_map(ROOT / "knowledge" / "data" / "sample_map.yaml").journey_map
    order = [s.id for s in journey_map.stages]
    phases = {s.id: stage_phase(s) for s in journey_map.stages}
    assert boundary_stage(order, phases, "pre") == "decision"
    assert boundary_stage(order, phases, "post") == "onboarding"
    second = load_map(ROOT / "tests" / "data" / "second_map.yaml").journey_map
    order = [s.id for s in second.stages]
    phases = {s.id: stage_phase(s) for s in second.stages}
    pre = [sid for sid in order if phases[sid] == "pre"]
    post = [sid for sid in order if phases[sid] == "post"]
    assert boundary_stage(order, phases, "pre") == pre[-1] and boundary_stage(order, phases, "post") == post[0]
    assert boundary_stage(order, {sid: "pre" for sid in order}, "post") is None


def test_the_signature_cue_agrees_with_the_phase_cue() -> None:
    assert question_phase("before they sign, what do I send?") == "pre"
    assert question_phase("just signed last week, what now?") == "post"
