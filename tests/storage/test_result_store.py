"""Kept results on SQLite and PostgreSQL: read back in their own conversation only, and a
row kept before an upgrade moved its result's class counts as expired, not as a bug."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from storage.engine import session_scope
from storage.migrate import upgrade_database
from storage.result_store import StoredResult, fetch_result, save_result


def test_a_kept_result_is_read_back_in_its_conversation_only(engine: Engine) -> None:
    upgrade_database(engine)
    with session_scope(engine) as session:
        kept = save_result(session, "churn", {"findings": [1, 2]}, channel_id="C1")
    with session_scope(engine) as session:
        assert fetch_result(session, kept, "churn", channel_id="C1") == {"findings": [1, 2]}
        assert fetch_result(session, kept, "churn", channel_id="C2") is None
        assert fetch_result(session, kept, "gaps", channel_id="C1") is None


def test_a_row_whose_class_moved_reads_as_expired(engine: Engine) -> None:
    upgrade_database(engine)
    moved = b"cstorage.result_store\nNoSuchResult\n."  # a class no longer where it was pickled from
    gone = b"cno_such_module_of_ours\nReport\n."
    with session_scope(engine) as session:
        ids = []
        for payload in (moved, gone):
            row = StoredResult(skill="gaps", channel_id="C1", payload=payload)
            session.add(row)
            session.flush()
            ids.append(row.id)
    with session_scope(engine) as session:
        assert [fetch_result(session, i, "gaps", channel_id="C1") for i in ids if i is not None] == [None, None]
