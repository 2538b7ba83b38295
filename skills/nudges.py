"""`nudges`: a rep's own switch for the DMs the bot sends when their deals move: on or
off, quiet hours (their Slack time zone's wall clock) and a daily cap no higher than the
workspace's (JOURNEYBOT_NUDGE_DAILY_CAP). It changes only the asking user's settings:
the user comes from the context (Slack's user id, or the CLI's --user), never from text.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from skills.context import SkillContext
from skills.registry import Arg, Skill, SkillInputError
from storage.engine import session_scope
from storage.nudge_preferences import (
    NudgePreference,
    fetch_nudge_preference,
    record_daily_cap,
    record_nudges_enabled,
    record_quiet_hours,
)

USAGE = "on, off, status, quiet 20-7 (or quiet off), cap 3 (or cap default)"
_CLOCK = r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?"
_RANGE = re.compile(_CLOCK + r"\s*(?:-|–|—|to|till|until|and)\s*" + _CLOCK, re.IGNORECASE)
_NUMBER = re.compile(r"\b(\d{1,3})\b")
_OFF = re.compile(r"\b(off|stop|pause|mute|disable|silence|unsubscribe|don'?t|do not|no more|opt (?:me )?out|quit)\b", re.I)
_ON = re.compile(r"\b(on|resume|enable|start|unmute|unpause|opt in|back in|again)\b", re.I)
_NO_QUIET = re.compile(r"\b(?:quiet\s+(?:off|none|no)|no quiet|without quiet)\b", re.I)
_CAP = re.compile(r"\b(cap|limit|at most|max(?:imum)?|no more than|up to|times a day|(?:a|per) day)\b", re.I)
_DEFAULT = re.compile(r"\b(default|reset)\b", re.I)
_QUESTION = re.compile(r"^\s*(are|is|what|what's|whats|how|when|do|does|which|show)\b", re.I)


@dataclass(frozen=True)
class NudgeSettings:
    """What a rep's nudges do now; `changed` names what this command changed ("" when it
    only showed them)."""

    enabled: bool
    quiet_start: dt.time | None  # None: no quiet hours
    quiet_end: dt.time | None
    daily_cap: int  # in effect: the rep's own, never above the workspace's
    workspace_cap: int
    changed: str = ""
    kind: str = "nudge_settings"

    def line(self) -> str:
        """The state in one line (what Slack, the CLI and App Home say)."""
        state = "on" if self.enabled else "off"
        quiet = (f"quiet {self.quiet_start:%H:%M}–{self.quiet_end:%H:%M} your time"
                 if self.quiet_start is not None and self.quiet_end is not None else "no quiet hours")
        return f"Nudges are {state} · {quiet} · at most {self.daily_cap} a day."

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "enabled": self.enabled,
                "quiet_start": self.quiet_start.strftime("%H:%M") if self.quiet_start else None,
                "quiet_end": self.quiet_end.strftime("%H:%M") if self.quiet_end else None,
                "daily_cap": self.daily_cap, "workspace_cap": self.workspace_cap, "changed": self.changed,
                "line": self.line()}


def settings_of(pref: NudgePreference, workspace_cap: int, changed: str = "") -> NudgeSettings:
    """A stored preference as it applies: the cap is the rep's own only while it is lower."""
    quiet = pref.quiet_start != pref.quiet_end
    cap = workspace_cap if pref.daily_cap is None else min(pref.daily_cap, workspace_cap)
    return NudgeSettings(pref.enabled, _time(pref.quiet_start) if quiet else None,
                         _time(pref.quiet_end) if quiet else None, cap, workspace_cap, changed)


def _time(minute: int) -> dt.time:
    return dt.time(minute // 60, minute % 60)


def run_nudges(ctx: SkillContext, setting: str = "status") -> NudgeSettings:
    user = ctx.user
    if not user:
        raise SkillInputError("`nudges` changes your own settings, so it needs your Slack user id: "
                              "use it in Slack, or `journeybot nudges status --user U123`.")
    verb, _, rest = (setting or "status").strip().lower().partition(" ")
    cap = ctx.settings.nudge_daily_cap
    with session_scope(ctx.engine) as session:
        if verb in ("", "status", "show", "settings"):
            return settings_of(fetch_nudge_preference(session, user), cap)
        if verb in ("on", "off"):
            return settings_of(record_nudges_enabled(session, user, verb == "on"), cap, verb)
        if verb == "quiet":
            start, end = parse_quiet_hours(rest)
            return settings_of(record_quiet_hours(session, user, start, end), cap, "quiet")
        if verb == "cap":
            return settings_of(record_daily_cap(session, user, parse_cap(rest, cap)), cap, "cap")
    raise SkillInputError(f"`nudges {setting.strip()}`: not a setting I know; try {USAGE}.")


def parse_quiet_hours(text: str) -> tuple[int, int]:
    """(start, end) minutes of the local day from `20-7`, `20:30-07:00`, `8pm to 7am`;
    `off` or `none` gives no quiet hours (start == end)."""
    words = text.strip().lower()
    if words in ("off", "none", "no"):
        return 0, 0
    found = _RANGE.search(words)
    if found is None:
        raise SkillInputError(f"quiet hours need a from-to time, like `quiet 20-7` or `quiet 19:30-08:00` (got {text.strip()!r}).")
    start = _minute(found.group(1), found.group(2), found.group(3), text)
    end = _minute(found.group(4), found.group(5), found.group(6), text)
    return start, end


def _minute(hour_text: str, minute_text: str | None, meridiem: str | None, raw: str) -> int:
    hour, minute = int(hour_text), int(minute_text or 0)
    if meridiem:
        if not 1 <= hour <= 12:
            raise SkillInputError(f"{hour}{meridiem} is not a time of day (in {raw.strip()!r}).")
        hour = hour % 12 + (12 if meridiem.startswith("p") else 0)
    if hour == 24 and minute == 0:
        hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise SkillInputError(f"{hour_text}:{minute_text or '00'} is not a time of day (in {raw.strip()!r}).")
    return hour * 60 + minute


def parse_cap(text: str, workspace_cap: int) -> int | None:
    """The rep's own cap (1 up to the workspace's), or None for `default`."""
    words = text.strip().lower()
    if words in ("default", "reset", "workspace"):
        return None
    if not words.isdigit():
        raise SkillInputError(f"the cap is a number of nudges a day, like `cap 3` (got {text.strip()!r}).")
    value = int(words)
    if value == 0:
        raise SkillInputError("a cap of 0 means no nudges: use `nudges off` for that.")
    if value > workspace_cap:
        raise SkillInputError(f"the workspace allows at most {workspace_cap} nudges a day (JOURNEYBOT_NUDGE_DAILY_CAP); "
                              "you can lower your cap, not raise it.")
    return value


def setting_from_words(text: str) -> str:
    """What a plain-words message asks of `nudges` (`pause my nudges` -> off, `quiet hours
    9pm to 7am` -> quiet 9pm-7am); `status` when it asks nothing to change."""
    if _NO_QUIET.search(text):
        return "quiet off"
    found = _RANGE.search(text)
    if found is not None and re.search(r"\b(quiet|sleep|night|between|hours|after|before|not)\b", text, re.I):
        return f"quiet {found.group(0)}"
    if _QUESTION.search(text):
        return "status"
    number = _NUMBER.search(text)
    if _CAP.search(text) and (number is not None or _DEFAULT.search(text)):
        return f"cap {number.group(1)}" if number is not None else "cap default"
    if _OFF.search(text):
        return "off"
    if _ON.search(text):
        return "on"
    return "status"


SKILL = Skill(
    name="nudges",
    help="Your deal nudges (DMs when your deals move): on or off, quiet hours in your time zone, a daily cap.",
    run=run_nudges,
    args=(Arg("setting", USAGE, positional=True, default="status"),),
    examples=("nudges status", "I don't want any more deal nudges from you", "nudges quiet 20-7", "nudges cap 3"),
    utterances=(
        "turn off my nudges",
        "stop sending me deal nudges",
        "pause the deal alerts you DM me",
        "mute your DMs about my deals please",
        "no more nudges today, I'm on holiday",
        "turn deal nudges back on",
        "resume my nudges",
        "i want the deal stage DMs again",
        "are my nudges on?",
        "what are my nudge settings",
        "show me my nudge settings for deal DMs",
        "do you still DM me when my deals move?",
        "don't message me between 7pm and 8am",
        "set my quiet hours to 9pm to 7am",
        "quiet hours 20-7 please",
        "no nudges between 8pm and 8am",
        "only nudge me 3 times a day",
        "limit nudges to 2 per day",
        "too many DMs from you, cap them at 3",
        "you're pinging me too much about deals",
        "stop DMing me about stage changes",
        "i'm getting too many deal notifications",
        "how many nudges will I get a day",
        "when are my quiet hours",
        "enable nudges for my deals",
        "switch off deal notifications",
        "unmute the DMs you send me about my deals",
        "opt me out of the deal DMs",
        "opt me back in to nudges",
        "change my nudge quiet hours",
        "reset my nudge cap to the default",
        "I don't want any more deal nudges from you",
        "can u turn my deal nudgs back on pls",
        "can you stop the notifications when a deal changes stage",
        "hi! please stop pinging me at night",
        "no quiet hours for my nudges",
    ),
)
