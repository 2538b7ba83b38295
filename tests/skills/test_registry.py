"""The registry: one declaration, typed argument parsing, dispatch with clear errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from config import Settings
from knowledge.service import KnowledgeService
from skills.builtin import default_registry
from skills.context import SkillContext
from skills.registry import Arg, Registry, Skill, SkillInputError, parse_args


@dataclass
class Echo:
    values: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return self.values


def echo(ctx: SkillContext, **values: Any) -> Echo:
    return Echo(values)


ECHO = Skill(
    "echo",
    "Echo the parsed arguments.",
    echo,
    args=(
        Arg("name", "who", positional=True, required=True),
        Arg("weeks", "how many", kind="int", default=1),
        Arg("mode", "how", kind="choice", choices=("fast", "slow"), default="fast"),
        Arg("dry_run", "do nothing", kind="flag", default=False),
    ),
)


def test_parse_options_anywhere_and_positional_rest() -> None:
    assert parse_args(ECHO, 'Acme --weeks 3 "Corp Ltd" --dry-run') == {"name": "Acme Corp Ltd", "weeks": 3, "mode": "fast", "dry_run": True}
    assert parse_args(ECHO, "") == {"name": None, "weeks": 1, "mode": "fast", "dry_run": False}


@pytest.mark.parametrize(
    "text,message",
    [
        ("Acme --weeks three", "--weeks must be a number"),
        ("Acme --mode medium", "--mode must be one of fast, slow"),
        ("Acme --colour red", "unknown option --colour"),
        ("Acme --weeks", "--weeks needs a value"),
    ],
)
def test_bad_arguments_say_how_to_fix_them(text: str, message: str) -> None:
    with pytest.raises(SkillInputError, match=message):
        parse_args(ECHO, text)


def test_dispatch_checks_required_and_crm(sample_service: KnowledgeService) -> None:
    registry = Registry()
    registry.add(ECHO)
    registry.add(Skill("crmthing", "needs the CRM", echo, needs_crm=True))
    ctx = SkillContext(sample_service.settings, sample_service)
    assert registry.dispatch(ctx, "echo", "Acme", weeks=2).to_dict()["weeks"] == 2
    with pytest.raises(SkillInputError, match="`echo` needs name"):
        registry.dispatch(ctx, "echo", "--weeks 2")
    with pytest.raises(SkillInputError, match="no HubSpot token is configured"):
        registry.dispatch(ctx, "crmthing")
    with pytest.raises(SkillInputError, match="unknown command 'nope'; try one of: crmthing, echo"):
        registry.dispatch(ctx, "nope")
    with pytest.raises(ValueError, match="declared twice"):
        registry.add(ECHO)


def test_ask_skill_answers_and_logs_channel(sample_service: KnowledgeService) -> None:
    ctx = SkillContext(sample_service.settings, sample_service, channel="C42", user="U7")
    answer = default_registry().dispatch(ctx, "ask", "what matters to IT in consideration? --persona IT")
    assert answer.stage_id == "consideration" and answer.persona_id == "technical-evaluator"
    from storage.engine import session_scope
    from storage.question_log import list_questions

    with session_scope(sample_service.engine) as session:
        entry = list_questions(session, limit=1)[0]
    assert entry.channel == "C42" and entry.user == "U7" and entry.question == "what matters to IT in consideration?"


def test_every_builtin_skill_is_documented() -> None:
    for skill in default_registry().skills.values():
        assert skill.help and skill.help.endswith(".")
        assert all(a.help for a in skill.args)


def test_settings_without_crm_token(sample_service: KnowledgeService) -> None:
    settings = Settings.from_mapping({**sample_service.settings.model_dump(), "hubspot_access_token": None})
    assert not SkillContext(settings, sample_service).crm_configured
