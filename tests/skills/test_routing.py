"""Mentions routed to skills deterministically; ambiguity asks back."""

from __future__ import annotations

import pytest

from skills.routing import Clarify, Route, route


@pytest.mark.parametrize(
    "message,skill,text",
    [
        ("how ready is Acme?", "account", "Acme"),
        ("<@U0BOT> How ready is Globex Corp?", "account", "Globex Corp"),
        ("is Initech ready to buy?", "account", "Initech"),
        ("readiness of Umbrella account", "account", "Umbrella"),
        ("who do we know at Hooli?", "account", "Hooli"),
        ("what do I send for the Globex deal?", "deal", "Globex"),
        ("content for the Acme renewal deal", "deal", "Acme renewal"),
        ("Initech deal, what should I send?", "deal", "Initech"),
        ("where are our content gaps?", "gaps", ""),
        ("run the gap audit", "gaps", ""),
        ("which deals are stalled? show me stalled deals", "velocity", ""),
        ("what's our stage conversion this week", "velocity", ""),
        ("which customers are at risk of churn?", "churn", ""),
        ("CFO keeps asking about ROI, what do I send?", "ask", "CFO keeps asking about ROI, what do I send?"),
        ("what does the consideration stage mean?", "ask", "what does the consideration stage mean?"),
        ("hey what matters to IT in consideration?", "ask", "what matters to IT in consideration?"),
    ],
)
def test_routes(message: str, skill: str, text: str) -> None:
    result = route(message)
    assert isinstance(result, Route), result
    assert (result.skill, result.text) == (skill, text)


def test_two_keyword_skills_ask_back() -> None:
    result = route("show churn risk and stalled deals")
    assert isinstance(result, Clarify)
    assert {o.skill for o in result.options} == {"churn", "velocity"} and result.question.endswith("Which one?")


def test_pronouns_are_not_account_names() -> None:
    assert route("how ready is it?") == Route("ask", "how ready is it?", "a question for the journey map")
