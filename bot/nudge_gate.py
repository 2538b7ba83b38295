"""Whether a rep may get a nudge now: the seam between nudge delivery and the rep's own
settings (on/off, quiet hours in their Slack time zone, a daily cap).

Delivery asks a `NudgeGate` before each DM; a verdict either sends, defers to a time
(quiet hours: the nudge waits, it is not dropped) or skips with a reason (opted out).

`PreferenceGate` is the real one (`preference_gate(runtime)`): opted out skips; inside
quiet hours (the rep's wall clock, zone from Slack, daylight saving included) waits until
they end; at the daily cap waits an hour and asks again (the cap counts the last 24
hours, and the gate is not told when those nudges went out, so it cannot say when the
window frees: re-checking hourly sends within an hour of it), never into quiet hours.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.time_zones import SlackTimeZones
from config import Settings
from skills.nudges import NudgeSettings, settings_of
from storage.engine import session_scope
from storage.nudge_preferences import fetch_nudge_preference

CAP_RECHECK = dt.timedelta(hours=1)


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


def quiet_until(local: dt.datetime, start: dt.time, end: dt.time) -> dt.datetime | None:
    """When quiet hours [start, end) that hold `local` (an aware time on the rep's clock)
    end, as an aware time in the same zone; None outside them. `start > end` wraps
    midnight; `start == end` is no quiet hours. The end is a wall-clock time on its own
    date, so a night across a daylight-saving change ends at 08:00 local all the same."""
    if start == end:
        return None
    wall, day = local.replace(tzinfo=None).time(), local.date()
    if start < end:
        inside, end_day = start <= wall < end, day
    else:
        inside = wall >= start or wall < end
        end_day = day + dt.timedelta(days=1) if wall >= start else day
    if not inside:
        return None
    return dt.datetime.combine(end_day, end, tzinfo=local.tzinfo)


def gate_verdict(settings: NudgeSettings, zone: dt.tzinfo, now: dt.datetime, sent_today: int) -> GateVerdict:
    """The verdict from the rep's settings alone (pure: the clock and zone are given)."""
    if not settings.enabled:
        return GateVerdict(send=False, reason="nudges are off for this rep")
    start, end = settings.quiet_start, settings.quiet_end
    if start is not None and end is not None:
        until = quiet_until(now.astimezone(zone), start, end)
        if until is not None:
            return GateVerdict(send=False, retry_at=until.astimezone(dt.UTC), reason="quiet hours")
    if sent_today >= settings.daily_cap:
        retry = now + CAP_RECHECK
        later = quiet_until(retry.astimezone(zone), start, end) if start is not None and end is not None else None
        return GateVerdict(send=False, retry_at=(later or retry).astimezone(dt.UTC),
                           reason=f"daily cap of {settings.daily_cap} reached")
    return GateVerdict(send=True)


class PreferenceGate:
    """The rep's stored settings (storage.nudge_preferences) and Slack time zone."""

    def __init__(self, session: Callable[[], AbstractContextManager[Session]], zones: SlackTimeZones,
                 workspace_cap: int) -> None:
        self._session = session
        self.zones = zones
        self.workspace_cap = workspace_cap

    def verdict(self, slack_user_id: str, now: dt.datetime, sent_today: int) -> GateVerdict:
        with self._session() as session:
            settings = settings_of(fetch_nudge_preference(session, slack_user_id), self.workspace_cap)
        if not settings.enabled:  # no need to ask Slack for a zone
            return gate_verdict(settings, dt.UTC, now, sent_today)
        return gate_verdict(settings, self.zones.zone(slack_user_id), now, sent_today)


class GateDeps(Protocol):
    """What the gate reads with; `bot.runtime.BotRuntime` (and a nudge scan's deps) fit."""

    settings: Settings
    knowledge: Any
    client: Any


def preference_gate(deps: GateDeps) -> PreferenceGate:
    """The gate of a process: its database, the process's zone cache, the workspace cap."""
    engine: Engine = deps.knowledge.engine
    return PreferenceGate(lambda: session_scope(engine), SlackTimeZones(deps.client), deps.settings.nudge_daily_cap)
