"""Reading the settings from this process's environment (and `.env`), once per distinct
environment; a value that does not fit raises `ConfigError` with one line naming the
variable, because a traceback never tells a user which setting to fix."""

from __future__ import annotations

import os
import threading

from pydantic import ValidationError

from config.errors import ConfigError
from config.settings import Settings


def env_name(field: str) -> str:
    """The environment variable that sets `field`."""
    return "DATABASE_URL" if field == "database_url" else f"JOURNEYBOT_{field.upper()}"


def describe_problems(exc: ValidationError) -> str:
    """One line naming every variable that does not fit, and what to do."""
    fields = Settings.model_fields
    parts = []
    for error in exc.errors():
        loc = str(error["loc"][0]) if error["loc"] else ""
        field = "database_url" if loc.upper() in ("DATABASE_URL", "JOURNEYBOT_DATABASE_URL") else loc
        name = env_name(field) if field in fields else loc
        hidden = field == "database_url" or (field in fields and "SecretStr" in str(fields[field].annotation))
        if error["type"] == "value_error":
            parts.append(f"{name} {str(error['ctx']['error'])}")
            continue
        shown = "" if hidden else f"={error.get('input')!r}"
        default = fields[field].default if field in fields else None
        hint = f" (default {default})" if default not in (None, "") else ""
        parts.append(f"{name}{shown}: {error['msg']}; fix it or unset it{hint}")
    return "; ".join(parts)


_cache: dict[tuple[object, ...], Settings] = {}
_cache_lock = threading.Lock()


def _environment_key() -> tuple[object, ...]:
    """What the settings are read from: this process's variables, its folder and `.env`."""
    names = tuple(sorted((k, v) for k, v in os.environ.items()
                         if k.upper().startswith("JOURNEYBOT_") or k.upper() == "DATABASE_URL"))
    cwd = os.getcwd()
    try:
        stat = os.stat(".env")
        dotenv: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        dotenv = None
    return (cwd, names, dotenv)


def load_settings() -> Settings:
    """The settings of this process's environment, read once per distinct environment
    (entry points and commands call this freely); raises ConfigError naming the variable."""
    key = _environment_key()
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    try:
        settings = Settings()
    except ValidationError as exc:
        raise ConfigError(describe_problems(exc)) from exc
    with _cache_lock:
        _cache.clear()  # one environment at a time; tests change it between calls
        _cache[key] = settings
    return settings
