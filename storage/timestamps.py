"""Time as stored and compared: one clock (`utc_now`) and one column type (`UtcDateTime`).

Every timestamp in the database is an instant in UTC. SQLite keeps no zone and psycopg
hands back the session's zone, so without one type each reader had to guess; with it,
every datetime read from a table is tz-aware UTC on every backend.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.types import DateTime, TypeDecorator


def utc_now() -> dt.datetime:
    """The one clock of the project (tz-aware UTC); pass a callable in where tests need another."""
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timestamp column holding UTC: TIMESTAMP WITH TIME ZONE on PostgreSQL, ISO text on
    SQLite. Writes refuse naive datetimes (which zone they meant is a guess); reads are
    always tz-aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} for a UTC column: pass a tz-aware one (storage.timestamps.utc_now)")
        utc = value.astimezone(dt.UTC)
        # SQLite's text format has no zone; PostgreSQL keeps the offset of an aware value.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime from the database, got {type(value).__name__}")
        if value.utcoffset() is None:  # SQLite keeps no zone: the value was written as UTC
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
