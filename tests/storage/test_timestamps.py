"""UTC timestamps on SQLite and PostgreSQL: what goes in as an instant comes back as the
same instant, tz-aware in UTC, whatever the zone it was given in or the session's zone;
naive datetimes are refused; migration 0011 gives skill_result.created_at its zone."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import StatementError
from sqlmodel import Session

from storage.churn_ledger import ChurnResponse, list_churn_responses, record_churn_response
from storage.engine import make_engine, session_scope
from storage.migrate import upgrade_database
from storage.result_store import StoredResult, prune_results, save_result
from storage.timestamps import utc_now

BERLIN = ZoneInfo("Europe/Berlin")


def _in_session_zone(engine: Engine, zone: str) -> Engine:
    """Every connection of `engine` in `zone` (PostgreSQL hands timestamps back in it)."""
    if engine.dialect.name == "postgresql":
        @event.listens_for(engine, "connect")
        def _zone(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET TIME ZONE '{zone}'")
            dbapi_connection.commit()
    return engine


def test_an_instant_comes_back_in_utc_whatever_zone_it_was_given_in(engine: Engine) -> None:
    engine = _in_session_zone(engine, "America/New_York")
    upgrade_database(engine)
    until = dt.datetime(2025, 3, 30, 3, 30, tzinfo=BERLIN)  # just after the spring-forward gap
    with session_scope(engine) as session:
        record_churn_response(session, "101", "silence", "snooze", user="U1", until=until)
    with Session(engine) as session:
        [row] = list_churn_responses(session, "101")
    assert row.until == until and row.until is not None and row.until.utcoffset() == dt.timedelta(0)
    assert row.until.hour == 1 and row.at.tzinfo is not None and row.at.utcoffset() == dt.timedelta(0)


def test_a_naive_datetime_is_refused(engine: Engine) -> None:
    upgrade_database(engine)
    with pytest.raises(StatementError, match="naive datetime"), session_scope(engine) as session:
        session.add(ChurnResponse(company_id="101", rule="silence", response="snooze", user="U1",
                                  until=dt.datetime(2025, 6, 1, 12, 0)))
        session.flush()


def test_kept_results_compare_as_instants_in_a_session_of_another_zone(engine: Engine) -> None:
    engine = _in_session_zone(engine, "Asia/Tokyo")
    upgrade_database(engine)
    with session_scope(engine) as session:
        kept = save_result(session, "gaps", {"n": 1}, channel_id="C1")
    with session_scope(engine) as session:
        row = session.get(StoredResult, kept)
        assert row is not None and abs(row.created_at - utc_now()) < dt.timedelta(minutes=1)
        assert row.created_at.utcoffset() == dt.timedelta(0)
        assert prune_results(session, utc_now() - dt.timedelta(hours=1)) == 0
        assert prune_results(session, utc_now() + dt.timedelta(hours=1)) == 1


def test_migration_0011_keeps_the_instants_of_rows_kept_before_it(postgres_url: str) -> None:
    engine = _in_session_zone(make_engine(postgres_url), "Europe/Berlin")
    try:
        upgrade_database(engine, "0010")
        written = dt.datetime(2025, 1, 15, 9, 0, tzinfo=dt.UTC)
        with engine.begin() as connection:  # as 0009's column took an aware value: in the session's zone
            connection.execute(text("INSERT INTO skill_result (skill, channel_id, payload, created_at) "
                                    "VALUES ('gaps', 'C1', :payload, :at)"), {"payload": b"x", "at": written})
            stored = connection.execute(text("SELECT created_at FROM skill_result")).scalar_one()
        assert stored == dt.datetime(2025, 1, 15, 10, 0)  # Berlin wall time, no zone
        upgrade_database(engine)
        column = next(c for c in inspect(engine).get_columns("skill_result") if c["name"] == "created_at")
        assert column["type"].timezone is True
        with Session(engine) as session:
            row = session.get(StoredResult, 1)
            assert row is not None and row.created_at == written and row.created_at.tzinfo is not None
    finally:
        engine.dispose()
