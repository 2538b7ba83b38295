"""Database URLs as people paste them: only PostgreSQL and SQLite, the psycopg driver for
the Heroku form, and a display form with the password hidden."""

from __future__ import annotations

import re

_URL_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://")
_URL_PASSWORD = re.compile(r"^(?P<head>[^:/]+://[^:/@]*:)[^@]*(?P<tail>@)")


def normalize_database_url(value: str) -> str:
    """Only PostgreSQL and SQLite; the Heroku form postgres:// (and a bare postgresql://)
    gets the psycopg driver, the one installed. The value is never echoed: it may hold a password."""
    value = value.strip()
    if not value:
        return value
    match = _URL_SCHEME.match(value)
    if match is None:
        raise ValueError("is not a database URL: use postgresql+psycopg://USER:PASSWORD@HOST:5432/DB "
                         "or sqlite:///PATH/journeybot.db")
    scheme = match["scheme"].lower()
    backend = scheme.split("+", 1)[0]
    if backend in ("postgres", "postgresql") and scheme in ("postgres", "postgresql", "postgresql+psycopg2"):
        return "postgresql+psycopg://" + value[match.end():]
    if backend not in ("postgresql", "sqlite"):
        raise ValueError(f"names a {backend} database: only PostgreSQL (postgresql+psycopg://...) "
                         "and SQLite (sqlite:///...) are supported")
    return value


def redact_url(url: str) -> str:
    return _URL_PASSWORD.sub(r"\g<head>***\g<tail>", url)
