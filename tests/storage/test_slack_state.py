"""Slack state on SQLite and PostgreSQL: event dedupe, channel config, thread context."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy.engine import Engine

from storage.engine import session_scope
from storage.migrate import upgrade_database
from storage.slack_state import (
    claim_event,
    fetch_channel_config,
    fetch_thread_context,
    prune_events,
    save_channel_config,
    save_thread_context,
)


def test_an_event_is_claimed_once_even_concurrently(engine: Engine) -> None:
    upgrade_database(engine)
    wins: list[bool] = []
    lock = threading.Lock()

    def claim() -> None:
        try:
            with session_scope(engine) as session:
                won = claim_event(session, "Ev123")
        except Exception:  # a concurrent insert may also surface at commit
            won = False
        with lock:
            wins.append(won)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1
    with session_scope(engine) as session:
        assert claim_event(session, "Ev123") is False
        assert claim_event(session, "Ev124") is True
        assert prune_events(session, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)) == 2


def test_channel_config_defaults_and_updates(engine: Engine) -> None:
    upgrade_database(engine)
    with session_scope(engine) as session:
        config = fetch_channel_config(session, "C1")
        assert (config.ephemeral, config.crm_allowed, config.allowed_skills) == (True, False, None)
        config.crm_allowed, config.allowed_skills = True, ["ask", "velocity"]
        save_channel_config(session, config, user_id="U0ADMIN")
    with session_scope(engine) as session:
        stored = fetch_channel_config(session, "C1")
        assert stored.crm_allowed and stored.allowed_skills == ["ask", "velocity"] and stored.updated_by == "U0ADMIN"


def test_thread_context_keeps_what_it_knew(engine: Engine) -> None:
    upgrade_database(engine)
    with session_scope(engine) as session:
        save_thread_context(session, "C1", "17.1", stage_id="decision")
        save_thread_context(session, "C1", "17.1", persona_id="finance")
    with session_scope(engine) as session:
        context = fetch_thread_context(session, "C1", "17.1")
        assert context is not None and (context.stage_id, context.persona_id) == ("decision", "finance")
        assert fetch_thread_context(session, "C1", "99.9") is None
