"""Period keys and fire times of a subscription's crontab.

A run is keyed by (subscription, period); the period comes from the *scheduled* fire
time in the subscription's time zone, so a run that goes out late (a restart, a CRM
outage) still counts for the week/day/month it was due in and never posts twice.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

# How far back `last_fire_time` looks, widening until a fire time turns up.
_LOOKBACK = (dt.timedelta(hours=2), dt.timedelta(days=2), dt.timedelta(days=8), dt.timedelta(days=32),
             dt.timedelta(days=367))


def _single(field: str) -> bool:
    """True for one fixed value (e.g. "9", "mon"), not "*", a list, range or step."""
    return field != "*" and not any(ch in field for ch in ",-/")


def granularity(cron: str) -> str:
    """"hourly", "daily", "weekly", "monthly" or "yearly": how often the crontab fires at
    most, as the period key needs it."""
    fields = cron.split()
    if len(fields) != 5:
        raise ValueError(f"crontab needs 5 fields (minute hour day month day-of-week), got {cron!r}")
    minute, hour, day, month, dow = fields
    if not (_single(minute) and _single(hour)):
        return "hourly"
    if _single(day) and _single(month):
        return "yearly"
    if _single(day) and dow == "*":
        return "monthly"
    if _single(dow) and day == "*":
        return "weekly"
    return "daily"


def period_key(cron: str, timezone: str, fire_time: dt.datetime) -> str:
    """The period a fire time belongs to, in the subscription's zone: "2026-W47" (weekly),
    "2026-11-23" (daily), "2026-11" (monthly), "2026" (yearly), "2026-11-23T09:30" (more often)."""
    local = fire_time.astimezone(ZoneInfo(timezone))
    kind = granularity(cron)
    if kind == "weekly":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "monthly":
        return f"{local:%Y-%m}"
    if kind == "yearly":
        return f"{local:%Y}"
    if kind == "daily":
        return f"{local:%Y-%m-%d}"
    return f"{local:%Y-%m-%dT%H:%M}"


def trigger(cron: str, timezone: str) -> CronTrigger:
    """APScheduler's trigger for a crontab (day-of-week names, e.g. "mon", are safest:
    APScheduler numbers weekdays from Monday = 0, crontab from Sunday = 0)."""
    return CronTrigger.from_crontab(cron, timezone=ZoneInfo(timezone))


def next_fire_time(cron: str, timezone: str, now: dt.datetime) -> dt.datetime | None:
    """The next scheduled fire time after `now` (operators want to know when)."""
    fire: dt.datetime | None = trigger(cron, timezone).get_next_fire_time(None, now)
    return fire


def last_fire_time(cron: str, timezone: str, now: dt.datetime) -> dt.datetime | None:
    """The latest scheduled fire time at or before `now`: what a job that runs late (a
    coalesced misfire) is really for. APScheduler 3 does not pass it to the job."""
    cron_trigger = trigger(cron, timezone)
    for lookback in _LOOKBACK:
        previous: dt.datetime | None = None
        candidate = cron_trigger.get_next_fire_time(None, now - lookback)
        while candidate is not None and candidate <= now:
            previous = candidate
            candidate = cron_trigger.get_next_fire_time(candidate, candidate + dt.timedelta(seconds=1))
        if previous is not None:
            return previous.astimezone(dt.UTC)
    return None
