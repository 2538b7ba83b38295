"""The nudge gate: opted out skips; quiet hours on the rep's own clock (zone from Slack's
users.info, daylight saving included) defer to their end; the daily cap re-checks hourly,
never into quiet hours. The zone comes from the Slack stand-in over HTTP."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.nudge_gate import CAP_RECHECK, GateVerdict, PreferenceGate, gate_verdict, quiet_until
from bot.time_zones import SlackTimeZones
from sandbox.slack_api import SlackStandIn
from skills.nudges import NudgeSettings
from storage.engine import make_engine, session_scope
from storage.migrate import upgrade_database
from storage.nudge_preferences import record_daily_cap, record_nudges_enabled, record_quiet_hours

BERLIN, LA = ZoneInfo("Europe/Berlin"), ZoneInfo("America/Los_Angeles")
DEFAULTS = NudgeSettings(True, dt.time(19), dt.time(8), 5, 5)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.mark.parametrize("now,zone,expected", [
    # Berlin springs forward on 2026-03-29: 08:00 that morning is 06:00 UTC, not 07:00
    (utc(2026, 3, 28, 22, 0), BERLIN, utc(2026, 3, 29, 6, 0)),
    # ... and falls back on 2026-10-25: 08:00 is 07:00 UTC again
    (utc(2026, 10, 24, 20, 0), BERLIN, utc(2026, 10, 25, 7, 0)),
    # after midnight, the same morning
    (utc(2026, 10, 25, 1, 30), BERLIN, utc(2026, 10, 25, 7, 0)),
    # Los Angeles springs forward on 2026-03-08: 08:00 PDT is 15:00 UTC (16:00 the day before)
    (utc(2026, 3, 8, 5, 0), LA, utc(2026, 3, 8, 15, 0)),
    (utc(2026, 3, 7, 5, 0), LA, utc(2026, 3, 7, 16, 0)),
])
def test_quiet_hours_defer_to_their_local_end(now: dt.datetime, zone: ZoneInfo, expected: dt.datetime) -> None:
    verdict = gate_verdict(DEFAULTS, zone, now, sent_today=0)
    assert verdict == GateVerdict(send=False, retry_at=expected, reason="quiet hours")
    assert verdict.retry_at is not None and verdict.retry_at.utcoffset() == dt.timedelta(0)
    assert verdict.retry_at.astimezone(zone).time() == dt.time(8)


def test_outside_quiet_hours_it_sends_and_the_edges_are_exact() -> None:
    assert gate_verdict(DEFAULTS, BERLIN, utc(2026, 6, 1, 10, 0), 0) == GateVerdict(send=True)  # 12:00 local
    assert gate_verdict(DEFAULTS, BERLIN, utc(2026, 6, 1, 6, 0), 0).send  # 08:00 local: quiet just ended
    assert not gate_verdict(DEFAULTS, BERLIN, utc(2026, 6, 1, 17, 0), 0).send  # 19:00 local: quiet starts
    daytime = NudgeSettings(True, dt.time(9), dt.time(17), 5, 5)  # quiet that does not wrap midnight
    assert gate_verdict(daytime, dt.UTC, utc(2026, 6, 1, 12), 0).retry_at == utc(2026, 6, 1, 17)
    assert gate_verdict(daytime, dt.UTC, utc(2026, 6, 1, 20), 0).send
    none = NudgeSettings(True, None, None, 5, 5)
    assert gate_verdict(none, BERLIN, utc(2026, 6, 1, 1, 0), 0).send


def test_an_end_inside_the_spring_forward_gap_still_lies_ahead() -> None:
    local = dt.datetime(2026, 3, 29, 1, 0, tzinfo=BERLIN)  # 02:30 does not exist that night
    until = quiet_until(local, dt.time(22), dt.time(2, 30))
    assert until is not None and until.astimezone(dt.UTC) > local.astimezone(dt.UTC)
    assert until.astimezone(dt.UTC).astimezone(BERLIN).time() >= dt.time(3)


def test_opted_out_skips_for_good() -> None:
    off = NudgeSettings(False, dt.time(19), dt.time(8), 5, 5)
    verdict = gate_verdict(off, BERLIN, utc(2026, 6, 1, 10), 0)
    assert verdict.send is False and verdict.retry_at is None and "off" in verdict.reason


def test_at_the_cap_it_asks_again_in_an_hour_but_not_into_quiet_hours() -> None:
    noon = utc(2026, 6, 1, 10, 0)  # 12:00 in Berlin
    verdict = gate_verdict(DEFAULTS, BERLIN, noon, sent_today=5)
    assert verdict == GateVerdict(send=False, retry_at=noon + CAP_RECHECK, reason="daily cap of 5 reached")
    assert gate_verdict(DEFAULTS, BERLIN, noon, sent_today=4).send
    evening = utc(2026, 6, 1, 16, 30)  # 18:30 in Berlin: an hour later is quiet
    assert gate_verdict(DEFAULTS, BERLIN, evening, sent_today=5).retry_at == utc(2026, 6, 2, 6, 0)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'gate.db'}")
    upgrade_database(engine)
    yield engine
    engine.dispose()


def gate_for(engine: Engine, slack: SlackStandIn, cap: int = 5) -> PreferenceGate:
    @contextmanager
    def session() -> Iterator[Session]:
        with session_scope(engine) as s:
            yield s

    client = WebClient(token="xoxb-test", base_url=slack.base_url)
    return PreferenceGate(session, SlackTimeZones(client), cap)


def test_the_gate_reads_stored_settings_and_the_zone_slack_gives(engine: Engine, slack_api: SlackStandIn) -> None:
    slack_api.add_user("U0WEST", tz="America/Los_Angeles")
    gate = gate_for(engine, slack_api)
    night = utc(2026, 3, 8, 5, 0)  # 21:00 in Los Angeles, 05:00 in UTC (outside quiet hours there)
    assert gate.verdict("U0WEST", night, 0).retry_at == utc(2026, 3, 8, 15, 0)
    assert gate.verdict("U0WEST", utc(2026, 3, 8, 20, 0), 0).send  # 13:00 PDT
    assert len(slack_api.of("users.info")) == 1  # the zone is cached for the process
    with session_scope(engine) as session:
        record_quiet_hours(session, "U0WEST", 22 * 60, 6 * 60)
        record_daily_cap(session, "U0WEST", 2)
    assert gate.verdict("U0WEST", night, 0).send  # 21:00 is no longer quiet for them
    assert gate.verdict("U0WEST", night, 2).reason == "daily cap of 2 reached"
    with session_scope(engine) as session:
        record_nudges_enabled(session, "U0WEST", False)
    assert gate.verdict("U0WEST", night, 0) == GateVerdict(send=False, reason="nudges are off for this rep")


def test_a_zone_given_only_as_an_offset_is_used(engine: Engine, slack_api: SlackStandIn) -> None:
    slack_api.add_user("U0EAST", tz_offset=5 * 3600 + 1800)  # +05:30, no zone name
    gate = gate_for(engine, slack_api)
    assert gate.verdict("U0EAST", utc(2026, 6, 1, 14, 0), 0).retry_at == utc(2026, 6, 2, 2, 30)  # 19:30 -> 08:00 local


def test_an_unknown_zone_falls_back_to_utc_and_is_logged_once(engine: Engine, slack_api: SlackStandIn,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    gate = gate_for(engine, slack_api)
    caplog.set_level(logging.WARNING, logger="bot.time_zones")
    slack_api.fail_next("users.info", "500")
    first = gate.verdict("U0GONE", utc(2026, 6, 1, 20, 0), 0)
    second = gate.verdict("U0GONE", utc(2026, 6, 1, 21, 0), 0)  # a profile without tz: UTC again
    assert first.retry_at == utc(2026, 6, 2, 8, 0) and second.retry_at == utc(2026, 6, 2, 8, 0)
    assert [r.getMessage() for r in caplog.records].count(
        "time zone of Slack user U0GONE unknown (SlackApiError); using UTC for their quiet hours") == 1
    assert len(caplog.records) == 1
    slack_api.add_user("U0GONE", tz="Europe/Berlin")  # Slack answers again: the next ask uses the real zone
    assert gate.verdict("U0GONE", utc(2026, 6, 1, 20, 0), 0).retry_at == utc(2026, 6, 2, 6, 0)
