"""Each rep's nudge settings on SQLite and PostgreSQL: defaults without a row, each verb
changes only its own field, and a second writer of a new row does not fail."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from storage.engine import session_scope
from storage.migrate import upgrade_database
from storage.nudge_preferences import (
    DEFAULT_QUIET_END,
    DEFAULT_QUIET_START,
    NudgePreference,
    fetch_nudge_preference,
    record_daily_cap,
    record_nudges_enabled,
    record_quiet_hours,
)


def test_defaults_until_changed_then_each_verb_keeps_the_others(engine: Engine) -> None:
    upgrade_database(engine)
    with session_scope(engine) as session:
        pref = fetch_nudge_preference(session, "U0REP")
        assert (pref.enabled, pref.quiet_start, pref.quiet_end, pref.daily_cap) == (True, DEFAULT_QUIET_START,
                                                                                    DEFAULT_QUIET_END, None)
        assert session.scalar(select(func.count()).select_from(NudgePreference)) == 0  # reading saves nothing
    with session_scope(engine) as session:
        record_nudges_enabled(session, "U0REP", False)
    with session_scope(engine) as session:
        record_quiet_hours(session, "U0REP", 20 * 60 + 30, 7 * 60)
    with session_scope(engine) as session:
        record_daily_cap(session, "U0REP", 3)
    with session_scope(engine) as session:
        pref = fetch_nudge_preference(session, "U0REP")
        assert (pref.enabled, pref.quiet_start, pref.quiet_end, pref.daily_cap) == (False, 1230, 420, 3)
        assert pref.updated_at.tzinfo is not None
        other = fetch_nudge_preference(session, "U0OTHER")
        assert other.enabled and other.daily_cap is None
    with session_scope(engine) as session:
        record_daily_cap(session, "U0REP", None)
        record_nudges_enabled(session, "U0REP", True)
    with session_scope(engine) as session:
        pref = fetch_nudge_preference(session, "U0REP")
        assert (pref.enabled, pref.quiet_start, pref.daily_cap) == (True, 1230, None)


def test_out_of_range_values_are_refused(engine: Engine) -> None:
    upgrade_database(engine)
    with session_scope(engine) as session:
        with pytest.raises(ValueError, match="out of range"):
            record_quiet_hours(session, "U0REP", 24 * 60, 0)
        with pytest.raises(ValueError, match="negative"):
            record_daily_cap(session, "U0REP", -1)


def test_two_writers_creating_the_same_row_both_land(engine: Engine) -> None:
    upgrade_database(engine)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def write(action: str) -> None:
        try:
            barrier.wait(timeout=5)
            with session_scope(engine) as session:
                if action == "off":
                    record_nudges_enabled(session, "U0RACE", False)
                else:
                    record_daily_cap(session, "U0RACE", 2)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(a,)) for a in ("off", "cap")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    with session_scope(engine) as session:
        count = session.scalar(select(func.count()).select_from(NudgePreference))
        pref = fetch_nudge_preference(session, "U0RACE")
    assert errors == [] and count == 1
    assert pref.daily_cap == 2
    assert pref.enabled is False
