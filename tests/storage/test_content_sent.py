"""The "Sent it" ledger on SQLite and PostgreSQL, through the migration: one row per
deal, asset and stage entry, whoever clicks and however often."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from storage.content_sent import list_content_sent, record_content_sent, set_note_id
from storage.engine import session_scope
from storage.migrate import upgrade_database

ENTERED = dt.datetime(2025, 5, 20, 9, 30, tzinfo=dt.UTC)
AT = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


def _record(engine: Engine, user: str, *, asset: str = "as-roi", entered: dt.datetime | None = ENTERED,
            stage: str = "contractsent") -> tuple[int, bool, str]:
    with session_scope(engine) as session:
        row, new = record_content_sent(session, deal_id="501", crm_stage_id=stage, journey_stage_id="decision",
                                       asset_id=asset, user=user, stage_entered_at=entered, at=AT)
        assert row.id is not None
        return row.id, new, row.user


def test_a_second_click_does_not_count_twice(engine: Engine) -> None:
    upgrade_database(engine)
    assert "content_sent" in inspect(engine).get_table_names()
    first = _record(engine, "U0REP")
    assert first[1] and first[2] == "U0REP"
    again = _record(engine, "U0OTHER")
    assert again == (first[0], False, "U0REP")  # the first clicker keeps it
    other_asset = _record(engine, "U0REP", asset="as-case-study")
    re_entered = _record(engine, "U0REP", entered=ENTERED + dt.timedelta(days=3))  # left and came back: a new entry
    unknown_entry = _record(engine, "U0REP", entered=None)
    assert other_asset[1] and re_entered[1] and unknown_entry[1]
    assert _record(engine, "U0REP", entered=None)[1] is False
    with session_scope(engine) as session:
        set_note_id(session, first[0], "7001")
        rows = list_content_sent(session)
    assert len(rows) == 4
    row = next(r for r in rows if r.id == first[0])
    assert (row.deal_id, row.crm_stage_id, row.journey_stage_id, row.asset_id, row.note_id) == (
        "501", "contractsent", "decision", "as-roi", "7001")
    assert row.stage_entered_at == ENTERED and row.sent_at == AT
    with session_scope(engine) as session:
        assert list_content_sent(session, since=AT + dt.timedelta(seconds=1)) == []


def test_concurrent_clicks_record_one_row(engine: Engine) -> None:
    upgrade_database(engine)
    results: list[tuple[int, bool, str]] = []
    barrier = threading.Barrier(4)

    def click(user: str) -> None:
        barrier.wait()
        results.append(_record(engine, user, asset="as-race"))

    threads = [threading.Thread(target=click, args=(f"U0{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for _, new, _ in results if new) == 1
    assert len({row_id for row_id, _, _ in results}) == 1
    with session_scope(engine) as session:
        assert len([r for r in list_content_sent(session) if r.asset_id == "as-race"]) == 1
