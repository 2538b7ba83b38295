"""`nudges`: the grammar (typed and in plain words) and what the skill stores and says,
run through the registry as Slack and the CLI run it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from config import Settings
from knowledge.service import KnowledgeService
from skills.builtin import default_registry
from skills.context import SkillContext
from skills.nudges import NudgeSettings, parse_cap, parse_quiet_hours, setting_from_words
from skills.registry import SkillInputError


@pytest.fixture
def context(make_settings: Callable[..., Settings]) -> Callable[..., SkillContext]:
    def build(user: str | None = "U0REP", **overrides: Any) -> SkillContext:
        settings = make_settings(**overrides)
        return SkillContext(settings, KnowledgeService(settings), user=user)

    return build


def run(ctx: SkillContext, text: str) -> NudgeSettings:
    result = default_registry().dispatch(ctx, "nudges", text)
    assert isinstance(result, NudgeSettings)
    return result


@pytest.mark.parametrize("text,expected", [
    ("20-7", (1200, 420)),
    ("19:30-08:15", (1170, 495)),
    ("8pm to 7am", (1200, 420)),
    ("10.30pm until 6am", (1350, 360)),
    ("9-17", (540, 1020)),
    ("24-6", (0, 360)),
    ("off", (0, 0)),
])
def test_quiet_hours_grammar(text: str, expected: tuple[int, int]) -> None:
    assert parse_quiet_hours(text) == expected


@pytest.mark.parametrize("text,message", [
    ("tonight", "from-to time"),
    ("25-7", "not a time of day"),
    ("13pm-7am", "not a time of day"),
    ("20:75-7", "not a time of day"),
])
def test_quiet_hours_mistakes_say_what_fits(text: str, message: str) -> None:
    with pytest.raises(SkillInputError, match=message):
        parse_quiet_hours(text)


def test_cap_can_be_lowered_not_raised() -> None:
    assert parse_cap("3", 5) == 3 and parse_cap("5", 5) == 5 and parse_cap("default", 5) is None
    with pytest.raises(SkillInputError, match="JOURNEYBOT_NUDGE_DAILY_CAP"):
        parse_cap("6", 5)
    with pytest.raises(SkillInputError, match="nudges off"):
        parse_cap("0", 5)
    with pytest.raises(SkillInputError, match="number of nudges"):
        parse_cap("lots", 5)


@pytest.mark.parametrize("text,setting", [
    ("pause my nudges please", "off"),
    ("stop DMing me about stage changes", "off"),
    ("turn deal nudges back on", "on"),
    ("are my nudges on?", "status"),
    ("what are my nudge settings", "status"),
    ("set my quiet hours to 9pm to 7am", "quiet 9pm to 7am"),
    ("no nudges between 8pm and 8am", "quiet 8pm and 8am"),
    ("no quiet hours for my nudges", "quiet off"),
    ("only nudge me 3 times a day", "cap 3"),
    ("reset my nudge cap to the default", "cap default"),
])
def test_plain_words_become_a_setting(text: str, setting: str) -> None:
    assert setting_from_words(text) == setting


def test_a_setting_from_words_parses_as_typed(context: Callable[..., SkillContext]) -> None:
    ctx = context()
    assert run(ctx, setting_from_words("no nudges between 8pm and 8am")).quiet_start == dt.time(20, 0)


def test_changes_are_the_askers_own_and_stick(context: Callable[..., SkillContext]) -> None:
    ctx = context(nudge_daily_cap=4)
    first = run(ctx, "")
    assert (first.enabled, first.quiet_start, first.quiet_end, first.daily_cap, first.changed) == (
        True, dt.time(19), dt.time(8), 4, "")
    assert first.line() == "Nudges are on · quiet 19:00–08:00 your time · at most 4 a day."
    assert run(ctx, "off").line().startswith("Nudges are off")
    assert run(ctx, "quiet 22:30-6").quiet_start == dt.time(22, 30)
    capped = run(ctx, "cap 2")
    assert (capped.enabled, capped.quiet_end, capped.daily_cap, capped.changed) == (False, dt.time(6), 2, "cap")
    assert run(ctx, "status").to_dict() == {
        "kind": "nudge_settings", "enabled": False, "quiet_start": "22:30", "quiet_end": "06:00", "daily_cap": 2,
        "workspace_cap": 4, "changed": "", "line": "Nudges are off · quiet 22:30–06:00 your time · at most 2 a day."}
    other = SkillContext(ctx.settings, ctx.knowledge, user="U0OTHER")
    assert run(other, "status").enabled is True  # someone else's settings are untouched
    assert run(ctx, "quiet off").line() == "Nudges are off · no quiet hours · at most 2 a day."


def test_a_lowered_workspace_cap_wins_over_a_higher_own_cap(context: Callable[..., SkillContext]) -> None:
    ctx = context(nudge_daily_cap=5)
    run(ctx, "cap 4")
    lowered = SkillContext(ctx.settings.model_copy(update={"nudge_daily_cap": 2}), ctx.knowledge, user="U0REP")
    assert run(lowered, "status").daily_cap == 2


def test_without_a_user_it_says_how_to_name_one(context: Callable[..., SkillContext]) -> None:
    with pytest.raises(SkillInputError, match="--user U123"):
        run(context(user=None), "off")
    with pytest.raises(SkillInputError, match="not a setting"):
        run(context(), "loud")
