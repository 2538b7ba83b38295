"""The CLI's exit codes, named once (scripts and cron jobs branch on them)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # the CRM did not answer, a check failed, or a bug (with an error id)
    USAGE = 2  # the input or a setting does not fit; the message says how to fix it
