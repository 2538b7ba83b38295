"""Before a command touches state: the database answers and the folders it writes can be
written, or one line names the setting to fix. Nothing is created here, so a mistake
leaves no half-made data directory behind."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from config import ConfigError, Settings

log = logging.getLogger(__name__)


def check_state(settings: Settings) -> None:
    """Raise ConfigError unless the database and the local folders are usable."""
    if not settings.database_url.startswith("sqlite"):
        check_database(settings)
    check_writable(settings.data_dir, "JOURNEYBOT_DATA_DIR")
    sqlite_file = _sqlite_path(settings.database_url)
    if sqlite_file is not None and not _inside(sqlite_file, settings.data_dir):
        check_writable(sqlite_file.parent, "DATABASE_URL")
    if not settings.chroma_host and settings.chroma_path and not _inside(settings.chroma_path, settings.data_dir):
        check_writable(settings.chroma_path, "JOURNEYBOT_CHROMA_PATH")


def check_database(settings: Settings) -> None:
    """Connect once; a refused or failed connection becomes one line with the URL (password hidden)."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.engine import make_engine

    engine = make_engine(settings.database_url)
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        log.debug("database check failed", exc_info=exc)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ConfigError(f"cannot reach the database at {settings.database_url_display} (DATABASE_URL): "
                          f"{reason}. Start the server or fix DATABASE_URL.", exit_code=1) from exc
    finally:
        engine.dispose()


def check_writable(folder: Path, setting: str) -> None:
    """`folder` exists and is writable, or can be created (its nearest existing parent is)."""
    folder = folder.expanduser()
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"{setting}: {folder} cannot be a folder: {existing} is a file. "
                          f"Point {setting} at a folder.")
    if not os.access(existing, os.W_OK | os.X_OK):
        what = "is read-only" if existing == folder else f"cannot be created ({existing} is read-only)"
        raise ConfigError(f"{setting}: {folder} {what}. Point {setting} at a folder you can write, "
                          "or make it writable.")


def _sqlite_path(url: str) -> Path | None:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url[len(prefix):] in ("", ":memory:"):
        return None
    return Path(url[len(prefix):].split("?", 1)[0])


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True
