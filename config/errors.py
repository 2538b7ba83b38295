"""The error for a setting or path the user must fix: its message is the whole story."""

from __future__ import annotations


class ConfigError(RuntimeError):
    """A configuration mistake; the message is one line naming the variable or path and
    what to do, so entry points print it instead of a traceback. `exit_code` is 2 for a
    value that does not fit, 1 for a service that does not answer."""

    def __init__(self, message: str, *, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
