"""A lock every process sharing the database sees: a PostgreSQL advisory lock, or on
SQLite (one machine) a file lock beside the database file.

Used where work must happen once even when several processes notice the need at the
same moment (e.g. rebuilding a missing index collection)."""

from __future__ import annotations

import fcntl
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

_local = threading.RLock()  # in-memory SQLite: one process is all there is (re-entrant: locks nest)


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for a lock name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[None]:
    """Hold the lock `name` for the block; waits while another process holds it."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": lock_key(name)})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(name)})
        return
    database = engine.url.database
    if not database or database == ":memory:":
        with _local:
            yield
        return
    path = Path(database)
    with file_lock(path.with_name(f"{path.name}.{name}.lock")):
        yield


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file `path` (created if missing) for the block: seen
    by every process on the machine that uses the same path, and by no other machine."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
