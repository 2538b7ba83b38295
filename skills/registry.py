"""The skill registry: each skill declared once (name, help, typed arguments, where it may
run, default schedule) and reached from the CLI, the Slack slash command, mentions and
the scheduler through `dispatch`."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from knowledge.errors import InputError
from skills.context import SkillContext

ArgKind = Literal["text", "int", "float", "flag", "choice"]


class SkillResult(Protocol):
    """What every skill returns: plain data that renderers format."""

    def to_dict(self) -> dict[str, Any]: ...


@runtime_checkable
class ThreadFacts(Protocol):
    """A result a conversation can continue from: what a follow-up in the same thread
    may leave out (keys account, deal, stage_id, persona_id)."""

    def thread_facts(self) -> dict[str, str | None]: ...


@dataclass(frozen=True)
class Arg:
    name: str
    help: str
    kind: ArgKind = "text"
    positional: bool = False
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schedule:
    """How a channel subscribes to a skill: the kind people type (`subscribe digest …`),
    other words for it, the default crontab, and the skill's options a subscription may fix."""

    kind: str
    cron: str
    aliases: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skill:
    name: str
    help: str
    run: Callable[..., SkillResult]
    args: tuple[Arg, ...] = ()
    needs_crm: bool = False
    schedule: Schedule | None = None  # None: not something a channel subscribes to
    examples: tuple[str, ...] = ()
    # Writes report files (charts, CSV) when the context names a folder: the CLI offers --out.
    report_files: bool = False
    # How people ask for it in plain words; routing learns the intent from these.
    # {company}, {deal}, {owner} and {time} stand for names and time phrases.
    utterances: tuple[str, ...] = ()

    @property
    def default_schedule(self) -> str | None:
        return self.schedule.cron if self.schedule else None


class SkillInputError(InputError):
    """The user's input does not fit the skill; the message says how to fix it."""


@dataclass
class Registry:
    skills: dict[str, Skill] = field(default_factory=dict)

    def add(self, skill: Skill) -> Skill:
        if skill.name in self.skills:
            raise ValueError(f"skill {skill.name!r} declared twice")
        self.skills[skill.name] = skill
        return skill

    def get(self, name: str) -> Skill:
        try:
            return self.skills[name]
        except KeyError:
            known = ", ".join(sorted(self.skills))
            raise SkillInputError(f"unknown command {name!r}; try one of: {known}") from None

    def command_text(self, name: str, arguments: dict[str, Any]) -> str:
        """The explicit syntax that runs `name` with `arguments` (what a button carries)."""
        return command_text(self.get(name), arguments)

    def dispatch(self, ctx: SkillContext, name: str, text: str = "", **values: Any) -> SkillResult:
        """Run skill `name` with arguments parsed from `text` (as typed after the command)
        and/or given as keyword values."""
        skill = self.get(name)
        args = parse_args(skill, text)
        args.update({k: v for k, v in values.items() if v is not None})
        missing = missing_required(skill, args)
        if missing:
            usage = " ".join(f"<{a.name}>" if a.positional else f"--{a.name} …" for a in skill.args if a.required)
            raise SkillInputError(f"`{name}` needs {', '.join(missing)}: {name} {usage}")
        if skill.needs_crm and not ctx.crm_configured:
            raise SkillInputError(
                f"`{name}` reads the CRM, and no HubSpot token is configured "
                "(JOURNEYBOT_HUBSPOT_ACCESS_TOKEN; `journeybot sandbox` serves a demo portal)."
            )
        return skill.run(ctx, **args)


def missing_required(skill: Skill, values: dict[str, Any]) -> list[str]:
    return [a.name for a in skill.args if a.required and values.get(a.name) in (None, "")]


def parse_args(skill: Skill, text: str) -> dict[str, Any]:
    """`--name value` options and `--flag`s anywhere; the remaining words fill the
    positional argument. Typed by the declaration, with a clear error otherwise."""
    try:
        tokens = shlex.split(text or "")
    except ValueError:
        tokens = (text or "").split()
    by_name = {a.name: a for a in skill.args}
    values: dict[str, Any] = {a.name: a.default for a in skill.args}
    rest: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        name = token[2:].replace("-", "_") if token.startswith("--") else None
        if name is not None and name in by_name:
            arg = by_name[name]
            if arg.kind == "flag":
                values[name] = True
            else:
                if i + 1 >= len(tokens):
                    raise SkillInputError(f"--{name} needs a value ({arg.help})")
                values[name] = convert_arg(arg, tokens[i + 1])
                i += 1
        elif name is not None and token.startswith("--") and len(token) > 2:
            known = ", ".join(f"--{a.name}" for a in skill.args if not a.positional) or "none"
            raise SkillInputError(f"unknown option {token} for `{skill.name}` (options: {known})")
        else:
            rest.append(token)
        i += 1
    positional = next((a for a in skill.args if a.positional), None)
    if rest:
        if positional is None:
            raise SkillInputError(f"`{skill.name}` takes no free text (got {' '.join(rest)!r})")
        values[positional.name] = convert_arg(positional, " ".join(rest))
    return values


def convert_arg(arg: Arg, raw: str) -> Any:
    """Typed text for a declared argument, or SkillInputError saying what fits."""
    try:
        if arg.kind == "int":
            return int(raw)
        if arg.kind == "float":
            return float(raw)
    except ValueError:
        raise SkillInputError(f"--{arg.name} must be a number (got {raw!r})") from None
    if arg.kind == "choice" and raw not in arg.choices:
        raise SkillInputError(f"--{arg.name} must be one of {', '.join(arg.choices)} (got {raw!r})")
    return raw


def command_text(skill: Skill, arguments: dict[str, Any]) -> str:
    """The explicit syntax that runs `skill` with `arguments`, as its Args declare them."""
    parts: list[str] = []
    for arg in skill.args:
        value = arguments.get(arg.name)
        if value is None or value == "" or value is False:
            continue
        if arg.kind == "flag":
            parts.append(f"--{arg.name}")
        elif arg.positional:
            parts.append(shlex.quote(str(value)))
        else:
            parts += [f"--{arg.name}", shlex.quote(str(value))]
    return " ".join(parts)
