"""CLI commands generated from the skill registry: `journeybot <skill> [args] [--json]`.

The arguments after the command are the same text a Slack user types after
`/journey <skill>`, parsed by the registry, so both paths stay identical.
"""

from __future__ import annotations

import json
import logging
import shlex
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from cli.exit_codes import ExitCode
from config import load_settings
from skills.registry import Registry, Skill, SkillResult

log = logging.getLogger(__name__)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def run_skill(name: str, text: str, *, as_json: bool, **values: Any) -> SkillResult:
    """Dispatch and print; errors become a message and an exit code."""
    _ctx, result = dispatch_or_exit(name, text, **values)
    print_result(name, result, as_json=as_json)
    return result


def dispatch_or_exit(name: str, text: str, **values: Any) -> tuple[Any, SkillResult]:
    """(context, result) of one skill, built from the environment's settings; the outcome
    decides the exit code (bad input, CRM unavailable, a bug with an error id)."""
    from knowledge.service import KnowledgeService
    from skills import outcome as outcomes
    from skills.builtin import default_registry
    from skills.context import SkillContext

    settings = load_settings()
    ctx = SkillContext(settings, KnowledgeService(settings), interactive=True, source="cli")
    match outcomes.run_skill(default_registry(), ctx, name, text, **values):
        case outcomes.Done(result):
            return ctx, result
        case outcomes.UserError(message):
            err.print(f"[red]{escape(message)}[/red]", highlight=False)
            raise typer.Exit(ExitCode.USAGE)
        case outcomes.CrmUnavailable(message, _):
            done = "" if "no partial result" in message else " (no partial result was used)"
            err.print(f"[red]CRM: {escape(message)}{done}[/red]", highlight=False)
            raise typer.Exit(ExitCode.FAILURE)
        case outcomes.Bug(error_id, _):
            err.print(f"[red]{name} failed unexpectedly (error id {error_id}); details are in the log.[/red]")
            raise typer.Exit(ExitCode.FAILURE)
    raise AssertionError("unreachable")


def print_result(name: str, result: SkillResult, *, as_json: bool) -> None:
    from cli.text import render_text

    text = None if as_json else render_text(result)
    if text is None:
        out.print_json(json.dumps(result.to_dict(), default=str))
        return
    out.print(text, highlight=False)


def _usage(skill: Skill) -> str:
    parts = []
    for arg in skill.args:
        if arg.positional:
            parts.append(f"<{arg.name}>: {arg.help}")
        elif arg.kind == "flag":
            parts.append(f"--{arg.name}: {arg.help}")
        else:
            parts.append(f"--{arg.name} VALUE: {arg.help}")
    return "\n\n".join([skill.help, *parts, *(f"Example: journeybot {e}" for e in skill.examples)])


def _command_for(skill: Skill) -> Callable[..., None]:
    def command(
        ctx: typer.Context,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON (shapes in docs/cli.md).")] = False,
    ) -> None:
        run_skill(skill.name, " ".join(shlex.quote(a) for a in ctx.args), as_json=as_json)

    command.__doc__ = _usage(skill)
    return command


def register_skill_commands(app: typer.Typer, registry: Registry, *, skip: frozenset[str] = frozenset()) -> None:
    for skill in registry.skills.values():
        if skill.name in skip:
            continue
        app.command(
            name=skill.name,
            context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        )(_command_for(skill))
