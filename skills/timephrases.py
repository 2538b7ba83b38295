"""Time phrases reps type ("last week", "this month", "since October", "week of 3 Nov")
turned into a date range that skills accept (velocity reports the week holding `week`)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], start=1)}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_PHRASE = re.compile(
    rf"\b(?P<rel>this|last|previous|past|prior) (?P<unit>week|month|quarter)\b"
    rf"|\b(?P<before>(?:the )?week before last)\b"
    rf"|\b(?P<since>since|in|during) (?P<month>{_MONTH})\b"
    rf"|\b(?:week of|w/c) (?P<day>\d{{1,2}}) (?P<dmonth>{_MONTH})\b"
    rf"|\b(?P<iso>\d{{4}}-\d{{2}}-\d{{2}})\b"
    rf"|\b(?P<wk>(?:20\d\d-)?w(?:eek ?)?(?P<wnum>\d{{1,2}}))\b"
    rf"|\b(?P<today>today|yesterday|so far this week)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class TimeRange:
    text: str
    start: dt.date
    end: dt.date  # inclusive
    grain: str  # "week", "month", "quarter", "since", "day"

    @property
    def week(self) -> dt.date:
        """A day in the week a weekly report should show: the last full week inside the
        range, or the range's own week when it is not yet over."""
        return self.end

    def to_dict(self) -> dict[str, str]:
        return {"type": "time", "text": self.text, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "grain": self.grain}


def find_time(text: str, today: dt.date) -> TimeRange | None:
    match = _PHRASE.search(text)
    if match is None:
        return None
    found = match.group(0)
    monday = today - dt.timedelta(days=today.weekday())
    if match.group("rel"):
        offset = 0 if match.group("rel").lower() == "this" else 1
        unit = match.group("unit").lower()
        if unit == "week":
            start = monday - dt.timedelta(weeks=offset)
            return TimeRange(found, start, min(start + dt.timedelta(days=6), today), "week")
        if unit == "month":
            start = _add_months(today.replace(day=1), -offset)
            return TimeRange(found, start, min(_add_months(start, 1) - dt.timedelta(days=1), today), "month")
        quarter_start = today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1)
        start = _add_months(quarter_start, -3 * offset)
        return TimeRange(found, start, min(_add_months(start, 3) - dt.timedelta(days=1), today), "quarter")
    if match.group("before"):
        start = monday - dt.timedelta(weeks=2)
        return TimeRange(found, start, start + dt.timedelta(days=6), "week")
    if match.group("month"):
        month = MONTHS[match.group("month").lower()]
        year = today.year if month <= today.month else today.year - 1
        start = dt.date(year, month, 1)
        if match.group("since").lower() == "since":
            return TimeRange(found, start, today, "since")
        return TimeRange(found, start, min(_add_months(start, 1) - dt.timedelta(days=1), today), "month")
    if match.group("day"):
        month = MONTHS[match.group("dmonth").lower()]
        year = today.year if month <= today.month else today.year - 1
        day = _safe_date(year, month, int(match.group("day")))
        if day is None:
            return None
        start = day - dt.timedelta(days=day.weekday())
        return TimeRange(found, start, start + dt.timedelta(days=6), "week")
    if match.group("iso"):
        day = _parse_iso(match.group("iso"))
        return TimeRange(found, day, day, "day") if day else None
    if match.group("wnum"):
        number = int(match.group("wnum"))
        try:
            start = dt.date.fromisocalendar(today.isocalendar().year, number, 1)
        except ValueError:
            return None
        if start > today:
            start = dt.date.fromisocalendar(today.isocalendar().year - 1, number, 1)
        return TimeRange(found, start, start + dt.timedelta(days=6), "week")
    word = match.group("today").lower()
    if word == "yesterday":
        day = today - dt.timedelta(days=1)
        return TimeRange(found, day, day, "day")
    return TimeRange(found, monday, today, "week")


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _parse_iso(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None
