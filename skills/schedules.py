"""Subscriptions as people type them: `digest weekly mon 09:00 Europe/Berlin`,
`churn daily 08:30`, `gaps monthly 1 --owner "Ava Adams"` -> kind, crontab, timezone,
filters. Shared by Slack, the CLI and the scheduler, so they agree on the grammar."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from skills.registry import SkillInputError

KINDS = {"digest": "digest", "velocity": "digest", "churn": "churn", "alerts": "churn", "gaps": "gaps", "audit": "gaps"}
SKILL_OF = {"digest": "velocity", "churn": "churn", "gaps": "gaps"}
DEFAULT_CRON = {"digest": "0 9 * * mon", "churn": "0 8 * * *", "gaps": "0 9 1 * *"}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FILTERS = {"digest": {"pipeline"}, "churn": {"owner", "min_severity"}, "gaps": {"stale_months"}}
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
USAGE = (
    "subscribe digest|churn|gaps [daily|weekly <mon..sun>|monthly <1-28>] [HH:MM] [Area/City] "
    "[--pipeline P (digest)] [--owner O] [--min_severity low|medium|high (churn)]"
)


@dataclass(frozen=True)
class ScheduleRequest:
    kind: str
    cron: str
    timezone: str = "UTC"
    filters: dict[str, Any] = field(default_factory=dict)

    @property
    def skill(self) -> str:
        return SKILL_OF[self.kind]


def parse_subscription(text: str) -> ScheduleRequest:
    try:
        tokens = shlex.split(text)
    except ValueError:
        tokens = text.split()
    if not tokens or tokens[0].lower() not in KINDS:
        raise SkillInputError(f"what should I post? {USAGE}")
    kind = KINDS[tokens[0].lower()]
    filters: dict[str, Any] = {}
    words: list[str] = []
    i = 1
    while i < len(tokens):
        token = tokens[i]
        if token.startswith("--"):
            name = token[2:].replace("-", "_")
            if name not in FILTERS[kind] or i + 1 >= len(tokens):
                known = ", ".join(f"--{f}" for f in sorted(FILTERS[kind]))
                raise SkillInputError(f"unknown or empty option {token} for {kind} (options: {known})")
            filters[name] = tokens[i + 1]
            i += 2
            continue
        words.append(token)
        i += 1
    minute, hour, dom, month, dow = DEFAULT_CRON[kind].split()
    timezone = "UTC"
    rest = [w for w in words]
    while rest:
        word = rest.pop(0)
        low = word.lower()
        if low == "daily":
            dom, dow = "*", "*"
        elif low == "weekly":
            day = rest.pop(0).lower()[:3] if rest and rest[0].lower()[:3] in DAYS else "mon"
            dom, dow = "*", day
        elif low == "monthly":
            day = rest.pop(0) if rest and rest[0].isdigit() else "1"
            if not 1 <= int(day) <= 28:
                raise SkillInputError("monthly takes a day from 1 to 28 (every month has it)")
            dom, dow = day, "*"
        elif low[:3] in DAYS and len(low) <= 9:
            dom, dow = "*", low[:3]
        elif _TIME.match(word):
            match = _TIME.match(word)
            assert match is not None
            hour, minute = str(int(match.group(1))), str(int(match.group(2)))
        elif "/" in word or word.upper() == "UTC":
            try:
                ZoneInfo(word)
            except (ZoneInfoNotFoundError, ValueError):
                raise SkillInputError(f"unknown time zone {word!r} (use an IANA name like Europe/Berlin)") from None
            timezone = word
        else:
            raise SkillInputError(f"I don't understand {word!r}. {USAGE}")
    return ScheduleRequest(kind, f"{minute} {hour} {dom} {month} {dow}", timezone, filters)


def describe(kind: str, cron: str, timezone: str) -> str:
    """`digest every Monday at 09:00 Europe/Berlin` from the stored form."""
    minute, hour, dom, _month, dow = cron.split()
    at = f"{int(hour):02d}:{int(minute):02d}"
    names = dict(zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True))
    if dow != "*":
        when = f"every {names.get(dow, dow)}"
    elif dom != "*":
        when = f"on day {dom} of every month"
    else:
        when = "every day"
    return f"{kind} {when} at {at} {timezone}"
