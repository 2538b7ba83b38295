"""The nudge ledger on SQLite and PostgreSQL (migrated schema): one row per key however
many writers race, a claim taken by one holder only, a stale claim taken over, and the
gate's count of DMs in the last 24 hours."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy.engine import Engine

from storage.deal_stage_watch import DealSighting, fetch_due_reminders, fetch_watched_deals, record_sightings
from storage.engine import session_scope
from storage.migrate import upgrade_database
from storage.nudge_ledger import (
    claim_nudge,
    count_sent_since,
    fetch_nudge,
    finish_nudge,
    list_nudges,
    mark_nudge_posting,
    nudge_key,
    nudges_to_send,
    record_nudge,
)

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
ENTERED = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def test_one_row_per_key_when_many_writers_race(engine: Engine) -> None:
    upgrade_database(engine)
    results: list[bool] = []
    barrier = threading.Barrier(6)

    def write() -> None:
        barrier.wait()
        with session_scope(engine) as session:
            results.append(record_nudge(session, deal_id="501", stage_id="contractsent", entered_at=ENTERED,
                                        kind="entered", now=NOW))

    threads = [threading.Thread(target=write) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 5 + [True]
    with session_scope(engine) as session:
        rows = list_nudges(session, "501")
        assert [(r.nudge_key, r.state) for r in rows] == [(nudge_key("501", "contractsent", ENTERED, "entered"), "pending")]
        # another kind of the same stage entry is another nudge
        assert record_nudge(session, deal_id="501", stage_id="contractsent", entered_at=ENTERED, kind="overdue_1x", now=NOW)


def test_a_claim_has_one_holder_and_a_stale_one_is_taken_over(engine: Engine) -> None:
    upgrade_database(engine)
    with session_scope(engine) as session:
        record_nudge(session, deal_id="502", stage_id="qualifiedtobuy", entered_at=ENTERED, kind="entered", now=NOW)
    with session_scope(engine) as session:
        first_view = nudges_to_send(session, now=NOW, lease_s=600)
    with session_scope(engine) as session:
        second_view = nudges_to_send(session, now=NOW, lease_s=600)
    assert [e.deal_id for e in first_view] == [e.deal_id for e in second_view] == ["502"]
    with session_scope(engine) as session:
        held = claim_nudge(session, first_view[0], now=NOW)
        assert held is not None and held.state == "claimed" and held.attempts == 1
    with session_scope(engine) as session:
        assert claim_nudge(session, second_view[0], now=NOW) is None  # the same row, seen before the claim
        assert mark_nudge_posting(session, held, channel_id="D1", slack_user_id="U1", now=NOW)
    with session_scope(engine) as session:  # within the lease: nobody else may take it
        assert nudges_to_send(session, now=NOW + dt.timedelta(seconds=300), lease_s=600) == []
    later = NOW + dt.timedelta(seconds=900)
    with session_scope(engine) as session:
        stale = nudges_to_send(session, now=later, lease_s=600)
        assert [(e.deal_id, e.state) for e in stale] == [("502", "posting")]
        again = claim_nudge(session, stale[0], now=later)
        assert again is not None and again.state == "posting" and again.channel_id == "D1"  # look in the DM first
    with session_scope(engine) as session:
        assert not finish_nudge(session, held, "posted", now=later, message_ts="1.0")  # the old holder lost it
        assert finish_nudge(session, again, "posted", now=later, message_ts="2.0")
    with session_scope(engine) as session:
        row = fetch_nudge(session, nudge_key("502", "qualifiedtobuy", ENTERED, "entered"))
        assert row is not None and (row.state, row.message_ts, row.attempts) == ("posted", "2.0", 2)
        assert nudges_to_send(session, now=later + dt.timedelta(days=1), lease_s=600) == []
        assert count_sent_since(session, "U1", later - dt.timedelta(hours=24)) == 1
        assert count_sent_since(session, "U1", later + dt.timedelta(seconds=1)) == 0
        assert count_sent_since(session, "U2", later - dt.timedelta(hours=24)) == 0


def test_a_deferred_nudge_waits_for_its_time(engine: Engine) -> None:
    upgrade_database(engine)
    with session_scope(engine) as session:
        record_nudge(session, deal_id="503", stage_id="contractsent", entered_at=None, kind="entered", now=NOW)
        held = claim_nudge(session, nudges_to_send(session, now=NOW, lease_s=600)[0], now=NOW)
        assert held is not None
        assert finish_nudge(session, held, "deferred", now=NOW, retry_at=NOW + dt.timedelta(hours=8), slack_user_id="U3")
    with session_scope(engine) as session:
        assert nudges_to_send(session, now=NOW + dt.timedelta(hours=7), lease_s=600) == []
        assert [e.deal_id for e in nudges_to_send(session, now=NOW + dt.timedelta(hours=8), lease_s=600)] == ["503"]


def test_watched_deals_and_due_reminders(engine: Engine) -> None:
    upgrade_database(engine)
    due = NOW + dt.timedelta(days=14)
    with session_scope(engine) as session:
        record_sightings(session, [
            DealSighting("601", "contractsent", ENTERED, False, "overdue_1x", due),
            DealSighting("602", "closedwon", ENTERED, True, None, None),
        ], now=NOW)
    with session_scope(engine) as session:
        seen = fetch_watched_deals(session, ["601", "602", "603"])
        assert sorted(seen) == ["601", "602"] and seen["601"].entered_at == ENTERED
        assert fetch_due_reminders(session, due - dt.timedelta(seconds=1)) == []
        assert [r.deal_id for r in fetch_due_reminders(session, due)] == ["601"]
