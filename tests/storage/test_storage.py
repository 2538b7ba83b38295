"""Storage on SQLite and on the PostgreSQL server of this machine: migrations, the
question log and index releases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from storage.engine import session_scope
from storage.index_release import IndexRelease, activate_release, fetch_active_release, list_releases
from storage.migrate import current_revision, upgrade_database
from storage.question_log import list_questions, record_question, set_feedback


def test_migrations_create_every_table(engine: Engine) -> None:
    upgrade_database(engine)
    assert current_revision(engine) is not None
    tables = set(inspect(engine).get_table_names())
    assert {"question_log", "index_release", "alembic_version"} <= tables
    upgrade_database(engine)  # idempotent


def test_sqlite_runs_in_wal_mode(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        assert engine.dialect.name == "postgresql"
        return
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_question_log_roundtrip(engine: Engine) -> None:
    upgrade_database(engine)
    with session_scope(engine) as session:
        first = record_question(session, question="what do I send the CFO?", stage_id="decision", persona_id="finance",
                                top_sources=["as-roi-calculator"], confidence=0.8, answered=True, latency_ms=12.5, channel="C1", user="U1")
        record_question(session, question="banana bread?", stage_id=None, persona_id=None, top_sources=[], confidence=0.1,
                        answered=False, latency_ms=3.0)
        first_id = first.id
    with session_scope(engine) as session:
        everything = list_questions(session)
        unanswered = list_questions(session, unanswered_only=True)
        future = list_questions(session, since=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    assert [e.question for e in everything] == ["banana bread?", "what do I send the CFO?"]
    assert everything[1].top_sources == ["as-roi-calculator"] and everything[1].asked_at.tzinfo is not None
    assert [e.question for e in unanswered] == ["banana bread?"]
    assert future == []
    assert first_id is not None
    with session_scope(engine) as session:
        updated = set_feedback(session, first_id, -5)
        assert updated is not None and updated.feedback == -1
        assert set_feedback(session, 999_999, 1) is None


def _release(name: str) -> IndexRelease:
    return IndexRelease(collection=name, map_name="m", map_version="1", map_sha256="abc", map_json="{}", embedding_model="x",
                        unit_count=1, embedded_count=1)


def test_exactly_one_active_release_per_prefix(engine: Engine) -> None:
    upgrade_database(engine)
    with session_scope(engine) as session:
        activate_release(session, _release("journeymap-1"), "journeymap")
        activate_release(session, _release("other-1"), "other")
    with session_scope(engine) as session:
        activate_release(session, _release("journeymap-2"), "journeymap")
    with session_scope(engine) as session:
        active = fetch_active_release(session, "journeymap")
        assert active is not None and active.collection == "journeymap-2"
        assert [r.active for r in list_releases(session, "journeymap")] == [True, False]
        other = fetch_active_release(session, "other")
        assert other is not None and other.collection == "other-1"


def test_failed_transaction_keeps_the_previous_release(engine: Engine) -> None:
    upgrade_database(engine)
    with session_scope(engine) as session:
        activate_release(session, _release("journeymap-1"), "journeymap")
    try:
        with session_scope(engine) as session:
            activate_release(session, _release("journeymap-2"), "journeymap")
            raise RuntimeError("crash before commit")
    except RuntimeError:
        pass
    with session_scope(engine) as session:
        active = fetch_active_release(session, "journeymap")
        assert active is not None and active.collection == "journeymap-1"
