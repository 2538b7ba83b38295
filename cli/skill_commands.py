"""CLI commands generated from the skill registry: `journeybot <skill> [args] [--json]`.

The arguments after the command are the same text a Slack user types after
`/journey <skill>`, parsed by the registry, so both paths stay identical. `--out DIR`
is the command's own option, not the skill's (Slack answers upload their files): skills
that make report files write them only there, so a plain run leaves nothing behind.
"""

from __future__ import annotations

import json
import logging
import shlex
from collections.abc import Callable
from pathlib import Path
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

OutOption = Annotated[Path | None, typer.Option(
    "--out", metavar="DIR", help="Write the report's files (images, CSV) into DIR, created if missing; "
                                 "without it no file is written.")]


def run_skill(name: str, text: str, *, as_json: bool, reports_dir: Path | None = None, user: str | None = None,
              **values: Any) -> SkillResult:
    """Dispatch and print; errors become a message and an exit code."""
    _ctx, result = dispatch_or_exit(name, text, reports_dir=reports_dir, user=user, **values)
    print_result(name, result, as_json=as_json)
    return result


def dispatch_or_exit(name: str, text: str, *, reports_dir: Path | None = None, user: str | None = None,
                     **values: Any) -> tuple[Any, SkillResult]:
    """(context, result) of one skill, built from the environment's settings; the outcome
    decides the exit code (bad input, CRM unavailable, a bug with an error id). Report
    files are written only into `reports_dir` (see `out_folder`); `user` is the Slack
    user a personal skill (`nudges`) acts for."""
    from cli.services import knowledge_service
    from skills import outcome as outcomes
    from skills.builtin import registry_for
    from skills.context import SkillContext

    settings = load_settings()
    ctx = SkillContext(settings, knowledge_service(), interactive=True, source="cli", reports_dir=reports_dir, user=user)
    match outcomes.run_skill(registry_for(name), ctx, name, text, **values):
        case outcomes.Done(result):
            return ctx, result
        case outcomes.UserError(message):
            err.print(f"[red]{escape(message)}[/red]", highlight=False)
            raise typer.Exit(ExitCode.USAGE)
        case outcomes.CrmUnavailable(message, _):
            done = "" if "no partial result" in message else " (no partial result was used)"
            err.print(f"[red]CRM: {escape(message)}{done}[/red]", highlight=False)
            raise typer.Exit(ExitCode.FAILURE)
        case outcomes.Misconfigured(message, _, exit_code):
            err.print(escape(message), style="red", highlight=False)
            raise typer.Exit(exit_code)
        case outcomes.Bug(error_id, _):
            err.print(f"[red]{name} failed unexpectedly (error id {error_id}); details are in the log.[/red]")
            raise typer.Exit(ExitCode.FAILURE)
    raise AssertionError("unreachable")


def out_folder(folder: Path | None) -> Path | None:
    """The `--out` folder, made before the skill runs, so a folder that cannot be written
    costs one line (exit 2) and no wasted run."""
    if folder is None:
        return None
    from cli.preflight import check_writable
    from config import ConfigError

    folder = folder.expanduser().absolute()
    try:
        check_writable(folder, "--out")
        folder.mkdir(parents=True, exist_ok=True)
    except ConfigError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]", highlight=False)
        raise typer.Exit(ExitCode.USAGE) from None
    except OSError as exc:
        err.print(f"[red]--out: cannot create {escape(str(folder))}: {escape(exc.strerror or str(exc))}[/red]",
                  highlight=False)
        raise typer.Exit(ExitCode.USAGE) from None
    return folder


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


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (shapes in docs/cli.md).")]


def _command_for(skill: Skill) -> Callable[..., None]:
    def command(ctx: typer.Context, as_json: JsonOption = False) -> None:
        run_skill(skill.name, _skill_text(ctx), as_json=as_json)

    def command_with_files(ctx: typer.Context, as_json: JsonOption = False, out_dir: OutOption = None) -> None:
        run_skill(skill.name, _skill_text(ctx), as_json=as_json, reports_dir=out_folder(out_dir))

    chosen = command_with_files if skill.report_files else command
    chosen.__doc__ = _usage(skill)
    return chosen


def _skill_text(ctx: typer.Context) -> str:
    """The words left after the command's own options: the skill's arguments, as in Slack."""
    return " ".join(shlex.quote(a) for a in ctx.args)


def register_skill_commands(app: typer.Typer, registry: Registry, *, skip: frozenset[str] = frozenset()) -> None:
    for skill in registry.skills.values():
        if skill.name in skip:
            continue
        app.command(
            name=skill.name,
            context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        )(_command_for(skill))
