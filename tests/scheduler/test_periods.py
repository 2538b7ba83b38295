from __future__ import annotations

import datetime as dt

import pytest

from scheduler.periods import granularity, last_fire_time, period_key

UTC = dt.UTC


@pytest.mark.parametrize("cron,fire,tz,key", [
    ("0 9 * * mon", dt.datetime(2026, 11, 16, 9, tzinfo=UTC), "UTC", "2026-W47"),
    ("15 8 * * *", dt.datetime(2026, 11, 23, 8, 15, tzinfo=UTC), "UTC", "2026-11-23"),
    ("0 7 3 * *", dt.datetime(2026, 11, 3, 7, tzinfo=UTC), "UTC", "2026-11"),
    ("0 9 * * mon-fri", dt.datetime(2026, 11, 23, 9, tzinfo=UTC), "UTC", "2026-11-23"),
    ("*/30 * * * *", dt.datetime(2026, 11, 23, 9, 30, tzinfo=UTC), "UTC", "2026-11-23T09:30"),
    # 23:30 UTC on Sunday is already Monday (next ISO week, next day) in Berlin
    ("30 0 * * mon", dt.datetime(2026, 11, 22, 23, 30, tzinfo=UTC), "Europe/Berlin", "2026-W48"),
    ("0 0 * * *", dt.datetime(2026, 11, 22, 23, 0, tzinfo=UTC), "Europe/Berlin", "2026-11-23"),
])
def test_period_comes_from_the_fire_time_in_the_subscription_zone(cron: str, fire: dt.datetime, tz: str, key: str) -> None:
    assert period_key(cron, tz, fire) == key


def test_granularity_and_bad_crontab() -> None:
    assert granularity("0 9 1 1 *") == "yearly"
    with pytest.raises(ValueError, match="5 fields"):
        granularity("0 9 * *")


def test_last_fire_time_is_the_scheduled_one_not_the_late_wall_clock() -> None:
    now = dt.datetime(2026, 11, 25, 14, 3, tzinfo=UTC)  # a Wednesday, two days late
    assert last_fire_time("0 9 * * mon", "UTC", now) == dt.datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert last_fire_time("0 9 * * mon", "Europe/Berlin", now) == dt.datetime(2026, 11, 23, 8, tzinfo=UTC)
    assert last_fire_time("0 7 3 * *", "UTC", now) == dt.datetime(2026, 11, 3, 7, tzinfo=UTC)
    assert last_fire_time("*/30 * * * *", "UTC", now) == dt.datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
