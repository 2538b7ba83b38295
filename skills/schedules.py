"""Subscriptions as people type them: `digest weekly mon 09:00 Europe/Berlin`,
`churn daily 08:30`, `gaps monthly 1 --owner "Ava Adams"` -> kind, crontab, timezone,
filters. Shared by Slack, the CLI and the scheduler, so they agree on the grammar; and
`subscribe`, the one way both store one."""

from __future__ import annotations

import dataclasses
import re
import shlex
from dataclasses import dataclass, field
from functools import cache
from typing import Any, cast, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session

from knowledge.catalog import UnknownReference, resolve_persona, resolve_stage
from knowledge.models import JourneyMap
from skills.registry import Schedule, Skill, SkillInputError
from storage.subscriptions import (
    Subscription,
    SubscriptionKind,
    add_subscription,
    list_subscriptions,
    reschedule_subscription,
)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")  # public, private and direct-message conversations
USAGE = (
    "subscribe digest|churn|gaps [daily|weekly <mon..sun>|monthly <1-28>] [HH:MM] [Area/City] "
    "[--pipeline P (digest)] [--owner O] [--min_severity low|medium|high (churn)] "
    "[--stale_months N] [--stage S] [--persona P] (gaps)"
)


@cache
def schedulable() -> dict[str, tuple[Skill, Schedule]]:
    """Subscription kind -> (skill, its schedule), from the skills' own declarations."""
    from skills.builtin import default_registry  # the registry imports every skill; load it on first use

    return {s.schedule.kind: (s, s.schedule) for s in default_registry().skills.values() if s.schedule}


def kind_of(word: str) -> str | None:
    """The subscription kind a word names ("velocity" -> "digest"), or None."""
    word = word.lower()
    return next((kind for kind, (skill, sched) in schedulable().items() if word in (kind, skill.name, *sched.aliases)), None)


def skill_for(kind: str) -> str | None:
    entry = schedulable().get(kind)
    return entry[0].name if entry else None


@dataclass(frozen=True)
class ScheduleRequest:
    kind: SubscriptionKind
    cron: str
    timezone: str = "UTC"
    filters: dict[str, Any] = field(default_factory=dict)

    @property
    def skill(self) -> str:
        return schedulable()[self.kind][0].name


def parse_subscription(text: str) -> ScheduleRequest:
    try:
        tokens = shlex.split(text)
    except ValueError:
        tokens = text.split()
    word = kind_of(tokens[0]) if tokens else None
    if word not in get_args(SubscriptionKind):
        raise SkillInputError(f"what should I post? {USAGE}")
    kind = cast(SubscriptionKind, word)
    schedule = schedulable()[kind][1]
    filters: dict[str, Any] = {}
    words: list[str] = []
    i = 1
    while i < len(tokens):
        token = tokens[i]
        if token.startswith("--"):
            name = token[2:].replace("-", "_")
            if name not in schedule.filters or i + 1 >= len(tokens):
                known = ", ".join(f"--{f}" for f in sorted(schedule.filters))
                raise SkillInputError(f"unknown or empty option {token} for {kind} (options: {known})")
            filters[name] = tokens[i + 1]
            i += 2
            continue
        words.append(token)
        i += 1
    minute, hour, dom, month, dow = schedule.cron.split()
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


def summary(subscription: Subscription) -> str:
    """What a channel receives, as people read it back: `describe` plus its filters."""
    filters = "".join(f" --{k} {v}" for k, v in subscription.filters.items())
    return f"{describe(subscription.kind, subscription.cron, subscription.timezone)}{filters}"


@dataclass(frozen=True)
class Subscribed:
    subscription: Subscription
    updated: bool  # an existing subscription got the new schedule (same id, no repost)

    def describe(self) -> str:
        verb = "Rescheduled" if self.updated else "Subscribed"
        return f"{verb} (id {self.subscription.id}): {summary(self.subscription)}"


def subscribe(
    session: Session, channel_id: str, request: ScheduleRequest, *, created_by: str, journey_map: JourneyMap | None = None
) -> Subscribed:
    """Store what `parse_subscription` read for a channel: the one way Slack and the CLI
    subscribe (Slack first checks, in bot/, who asks and that it can post there). The
    same kind with the same filters in the same channel is the same subscription: a new
    time or zone edits it, so a period it already posted is not posted twice. A `--stage`
    or `--persona` filter is checked against `journey_map` now and stored as its id, so a
    typo fails here, not at every fire time."""
    if not _CHANNEL_ID.match(channel_id):
        raise SkillInputError(f"{channel_id!r} is not a Slack channel id: use the id (like C0123456, at the bottom "
                              "of the channel's details in Slack), not its name")
    if journey_map is not None:
        request = _with_map_ids(request, journey_map)
    same = next((s for s in list_subscriptions(session, channel_id=channel_id)
                 if s.kind == request.kind and dict(s.filters) == dict(request.filters)), None)
    if same is not None:
        return Subscribed(reschedule_subscription(session, same, cron=request.cron, timezone=request.timezone), True)
    return Subscribed(add_subscription(session, channel_id=channel_id, kind=request.kind, cron=request.cron,
                                       timezone=request.timezone, filters=request.filters, created_by=created_by), False)


def _with_map_ids(request: ScheduleRequest, journey_map: JourneyMap) -> ScheduleRequest:
    """The request with its stage and persona filters as the map's ids ("Decision" -> "decision")."""
    filters = dict(request.filters)
    try:
        if "stage" in filters:
            filters["stage"] = resolve_stage(journey_map, str(filters["stage"])).id
        if "persona" in filters:
            filters["persona"] = resolve_persona(journey_map, str(filters["persona"])).id
    except UnknownReference as exc:
        raise SkillInputError(str(exc)) from None
    return dataclasses.replace(request, filters=filters)
