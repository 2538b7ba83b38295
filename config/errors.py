"""The error for a setting or path the user must fix: its message is the whole story;
and the boundary every entry point puts around itself to print it in one line."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

log = logging.getLogger(__name__)


class ConfigError(RuntimeError):
    """A configuration mistake; the message is one line naming the variable or path and
    what to do, so entry points print it instead of a traceback. `exit_code` is 2 for a
    value that does not fit, 1 for a service that does not answer."""

    def __init__(self, message: str, *, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def one_line(exc: BaseException) -> tuple[str, int] | None:
    """The one line (and exit code) for a failure the user can fix; None for a bug."""
    if isinstance(exc, ConfigError):
        return str(exc), exc.exit_code
    if type(exc).__module__.startswith("sqlalchemy"):  # only then is SQLAlchemy imported already
        from sqlalchemy.exc import InterfaceError, OperationalError

        from config.environment import load_settings

        if isinstance(exc, (OperationalError, InterfaceError)):  # the server, not our SQL
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            return (f"database error at {load_settings().database_url_display} (DATABASE_URL): {reason}", 1)
    if type(exc).__module__ == "knowledge.validation":  # a broken map file; the setting names it
        problems = str(exc).splitlines()[1:] or [str(exc)]
        more = f" (and {len(problems) - 1} more: `journeybot validate` lists them)" if len(problems) > 1 else ""
        return f"the journey map (JOURNEYBOT_JOURNEY_MAP_PATH) cannot be used: {problems[0]}{more}", 2
    if isinstance(exc, PermissionError) and exc.filename:
        return f"cannot write {exc.filename}: {exc.strerror} (check JOURNEYBOT_DATA_DIR and its permissions)", 1
    return None


def run_entry_point(entry: Callable[[], object]) -> None:
    """Run a process's entry point: a failure the user can fix ends it with its one line
    on stderr and its exit code (the traceback at DEBUG); a bug raises as it is."""
    try:
        entry()
    except Exception as exc:
        described = one_line(exc)
        if described is None:
            raise
        log.debug("details of the error below", exc_info=exc)
        print(described[0], file=sys.stderr, flush=True)
        sys.exit(described[1])
