"""Whether a rep may get a nudge now: the seam between nudge delivery and the rep's own
settings (on/off, quiet hours in their Slack time zone, a daily cap).

Delivery asks a `NudgeGate` before each DM; a verdict either sends, defers to a time
(quiet hours: the nudge waits, it is not dropped) or skips with a reason (opted out).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class GateVerdict:
    send: bool
    retry_at: dt.datetime | None = None  # not now, but then (UTC); None with send=False: not at all
    reason: str = ""


class NudgeGate(Protocol):
    def verdict(self, slack_user_id: str, now: dt.datetime, sent_today: int) -> GateVerdict:
        """`sent_today`: nudges already DMed to this user in the 24 hours before `now`."""
        ...


class OpenGate:
    """Every nudge goes out (no preferences stored yet)."""

    def verdict(self, slack_user_id: str, now: dt.datetime, sent_today: int) -> GateVerdict:
        return GateVerdict(send=True)
