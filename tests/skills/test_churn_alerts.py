"""Churn alert ledger: cooldown, worsening re-alerts, snoozes and acknowledgements (with who
and when), scopes, on a real SQLite database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.blocks.churn import render_alerts
from skills.churn import ChurnFinding
from skills.churn_alerts import decide_alerts, record_alerts_sent, select_new_alerts
from storage.churn_ledger import last_alert_sent, record_churn_response
from storage.engine import create_all, make_engine, session_scope

NOW = dt.datetime(2025, 6, 4, 8, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


COOLDOWN = 14  # JOURNEYBOT_CHURN_ALERT_COOLDOWN_DAYS's default


def finding(company: str = "101", rule: str = "silence", severity: str = "medium", owner: str | None = "7") -> ChurnFinding:
    return ChurnFinding(company, f"Account {company}", rule, severity, "no logged engagement for 40 days", owner,
                        "Ava Adams", None)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'alerts.db'}")
    create_all(engine)
    yield engine
    engine.dispose()


def sent(engine: Engine, findings: list[ChurnFinding], at: dt.datetime, scope: str = "") -> None:
    with session_scope(engine) as session:
        record_alerts_sent(session, findings, at, scope=scope)


def select(engine: Engine, findings: list[ChurnFinding], at: dt.datetime, *, cooldown_days: int = COOLDOWN,
           scope: str = "") -> list[ChurnFinding]:
    with Session(engine) as session:
        return select_new_alerts(session, findings, at, cooldown_days, scope=scope)


def test_new_then_cooldown_then_again(engine: Engine) -> None:
    f = finding()
    assert select(engine, [f], NOW) == [f]
    sent(engine, [f], NOW)
    with Session(engine) as session:
        row = last_alert_sent(session, "101", "silence")
        assert row is not None and row.severity == "medium"
    assert select(engine, [f], NOW + 13 * DAY) == []
    assert select(engine, [f], NOW + 15 * DAY) == [f]
    assert select(engine, [f], NOW + 3 * DAY, cooldown_days=2) == [f]
    # another rule or account is its own alert
    other = [finding(rule="low_nps"), finding(company="102")]
    assert select(engine, other, NOW + DAY) == other


def test_worsening_realerts_within_cooldown(engine: Engine) -> None:
    sent(engine, [finding(severity="medium")], NOW)
    worse = finding(severity="high")
    with Session(engine) as session:
        [decision] = decide_alerts(session, [worse], NOW + 2 * DAY, COOLDOWN)
    assert decision.send and decision.reason == "worsened (medium -> high)"
    sent(engine, [worse], NOW + 2 * DAY)
    assert select(engine, [worse], NOW + 3 * DAY) == []
    assert select(engine, [finding(severity="medium")], NOW + 3 * DAY) == []  # better is not news


def test_snooze_honoured_until_it_ends(engine: Engine) -> None:
    with session_scope(engine) as session:
        record_churn_response(session, "101", "silence", "snooze", user="U0CSM", until=NOW + 7 * DAY)
    f = finding(severity="high")
    with Session(engine) as session:
        [decision] = decide_alerts(session, [f], NOW + DAY, COOLDOWN)
    assert not decision.send and "U0CSM" in decision.reason and (NOW + 7 * DAY).isoformat() in decision.reason
    assert select(engine, [f], NOW + 8 * DAY) == [f]
    assert select(engine, [finding(rule="low_nps")], NOW + DAY) != []  # only that rule is snoozed


def test_acknowledge_honoured_within_cooldown(engine: Engine) -> None:
    with session_scope(engine) as session:
        entry = record_churn_response(session, "101", "silence", "ack", user="U0LEAD")
        entry.at = NOW - DAY
        session.add(entry)
    f = finding()
    with Session(engine) as session:
        [decision] = decide_alerts(session, [f], NOW, COOLDOWN)
    assert not decision.send and decision.reason == f"acknowledged by U0LEAD on {(NOW - DAY).isoformat()}"
    assert select(engine, [f], NOW + 12 * DAY) == []
    assert select(engine, [f], NOW + 14 * DAY) == [f]


def test_scopes_are_separate_audiences(engine: Engine) -> None:
    f = finding()
    sent(engine, [f], NOW, scope="C0SALES")
    assert select(engine, [f], NOW + DAY, scope="C0SALES") == []
    assert select(engine, [f], NOW + DAY, scope="C0CS") == [f]


def test_render_alerts_grouped_or_per_finding() -> None:
    findings = [finding(severity="high"), finding(company="102", rule="low_nps", owner=None)]
    assert render_alerts([], per_finding=False) == []
    [grouped] = render_alerts(findings, per_finding=False)
    payload = str(grouped.payload_blocks())
    assert "2* new alerts on *2* accounts" in payload and "Account 101" in payload and "Account 102" in payload
    single = render_alerts(findings, per_finding=True, mentions={"7": "U0AVA"})
    assert len(single) == 2 and "<@U0AVA>" in str(single[0].payload_blocks())
    assert "Ava Adams" in str(single[1].payload_blocks())
