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
from collections.abc import Callable
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from cli import knowledge_commands, setup_commands, subscription_commands
from cli.crm_commands import crm_app, sandbox_command
from cli.demo import demo
from cli.route_command import route
from cli.setup_commands import db_app, model_app

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
    "influence": "Which content moves deals: per asset, conversion of the deals it was sent on vs the rest, with counts.",
    "slack": "The Slack bot's processes (the web process is bot.wsgi).",
    "run": "Post a subscription's period now, as the clock would (once per period unless --force).",
    "nudges": "Deal nudges: DMs to deal owners when a deal moves; a rep's own settings (on, off, quiet hours, cap).",
}
# Commands that read or write the database and the data directory: checked first (cli.preflight).
NEEDS_STATE = frozenset({"index", "ask", "stages", "content", "route", "gaps", "account", "deal", "velocity",
                         "churn", "influence", "digest", "subscribe", "unsubscribe", "subscriptions", "run", "nudges"})
ORDER = ("where", "validate", "index", "ask", "stages", "content", "route", "gaps", "account", "deal", "velocity",
         "digest", "churn", "influence", "subscribe", "unsubscribe", "subscriptions", "run", "nudges", "demo",
         "sandbox", "schema", "model", "db", "crm", "slack")


@functools.cache
def _skill_commands() -> dict[str, Any]:
    """The registry's commands and the scheduled-post previews, built on first use."""
    from cli.schedule_commands import register_schedule_commands
    from cli.skill_commands import register_skill_commands
    from skills.builtin import default_registry

    sub = typer.Typer()
    # `ask` keeps its own command (typed options, auto-indexing); `churn` is the preview's;
    # `nudges` is a group of its own (cli.nudge_commands: scan, and the settings with --user).
    register_skill_commands(sub, default_registry(), skip=frozenset({"ask", "churn", "nudges"}))
    register_schedule_commands(sub)
    return dict(typer.main.get_group(sub).commands)


def _load_lazy(name: str) -> Any:
    if name == "slack":
        from cli.slack_commands import slack_app

        return typer.main.get_group(slack_app)
    if name == "nudges":
        from cli.nudge_commands import nudges_app

        return typer.main.get_group(nudges_app)
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


def _reflowed(command: Any) -> Any:
    """`command` (and its subcommands) with each help paragraph on one line: docstrings
    wrap at the source's width, and the terminal would show those breaks mid-sentence."""
    if isinstance(getattr(command, "help", None), str):
        paragraphs = [" ".join(p.split()) for p in command.help.split("\n\n")]
        command.help = "\n\n".join(p for p in paragraphs if p)
    for sub in (getattr(command, "commands", None) or {}).values():
        _reflowed(sub)
    return command


class _Group(TyperGroup):
    """The root group: lazy commands listed by name, loaded when invoked; commands that
    touch state get the preflight check before they run (after their own --help)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, help_text in LAZY_HELP.items():
            self.commands.setdefault(name, _Placeholder(name=name, help=help_text))
        rank = {name: i for i, name in enumerate(ORDER)}
        self.commands = {name: _reflowed(command) for name, command in
                         sorted(self.commands.items(), key=lambda item: rank.get(item[0], len(rank)))}

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if isinstance(command, _Placeholder) and name:
            command = self.commands[name] = _reflowed(_load_lazy(name))
        if name in NEEDS_STATE and command is not None and command.callback is not None \
                and not getattr(command.callback, "state_checked", False):
            command.callback = _state_checked(command.callback)
        return name, command, rest


app = typer.Typer(cls=_Group, no_args_is_help=True, add_completion=False,
                  help="journeybot: your buyer journey map, in Slack.")
app.command()(setup_commands.where)
app.command()(setup_commands.schema)
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


def main() -> None:
    from config.errors import run_entry_point  # config is read by the callback above anyway

    run_entry_point(app)
