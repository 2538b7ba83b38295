"""Scheduled churn alerts: new findings posted once, then quiet within the cooldown;
digests mention owners whose CRM email matches a Slack user."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from sqlmodel import Session, col, select

from bot.runtime import BotRuntime
from sandbox.slack_api import SlackStandIn
from scheduler.runs import execute
from storage.churn_ledger import AlertSent
from storage.engine import session_scope
from storage.subscriptions import Subscription
from tests.scheduler.conftest import MONDAY_0900, posts


def test_churn_alerts_posted_once_then_cooldown(runtime: BotRuntime, slack: SlackStandIn,
                                                subscribe: Callable[..., Subscription]) -> None:
    sub = subscribe("churn", "0 8 * * *", min_severity="high")
    day1 = execute(runtime, sub.id, MONDAY_0900.replace(hour=8))
    assert day1.status == "posted" and day1.message_ts
    first = posts(slack, sub.channel_id)
    assert first and "HIGH" in json.dumps(first[0]["blocks"]).upper()
    with session_scope(runtime.knowledge.engine) as session:
        sent_day1 = _sent(session, sub.channel_id)
    assert sent_day1
    day2 = execute(runtime, sub.id, MONDAY_0900.replace(hour=8) + dt.timedelta(days=1))
    assert day2.status == "posted"
    with session_scope(runtime.knowledge.engine) as session:
        sent = _sent(session, sub.channel_id)
    # inside the cooldown nothing already alerted is alerted again (only new risks, if any)
    assert len(sent) == len(set(sent)) and set(sent_day1) <= set(sent)
    if set(sent) == set(sent_day1):
        assert day2.detail == "nothing new" and len(posts(slack, sub.channel_id)) == len(first)


def _sent(session: Session, scope: str) -> list[tuple[str, str]]:
    rows = session.exec(select(AlertSent).where(col(AlertSent.scope) == scope))
    return [(r.company_id, r.rule) for r in rows]


def test_digest_mentions_owners_by_slack_id_never_by_email(runtime: BotRuntime, slack: SlackStandIn,
                                                           subscribe: Callable[..., Subscription]) -> None:
    owners = runtime.context(None, None).gateway.owners()
    slack.users_by_email = {o.email: f"U{o.id}" for o in owners if o.email}
    sub = subscribe()
    assert execute(runtime, sub.id, MONDAY_0900).status == "posted"
    payload = json.dumps(posts(slack, sub.channel_id)[0])
    assert "<@U" in payload
    assert not any(o.email and o.email in payload for o in owners)


def test_every_alert_of_a_run_reaches_the_channel_and_only_those_are_recorded(
        runtime: BotRuntime, slack: SlackStandIn, subscribe: Callable[..., Subscription]) -> None:
    """More alerts than one message holds: several messages, none dropped, and the ledger
    records exactly the alerts that were posted (a cooldown never hides an unseen alert)."""
    sub = subscribe("churn", "0 8 * * *", min_severity="low")
    outcome = execute(runtime, sub.id, MONDAY_0900.replace(hour=8))
    assert outcome.status == "posted"
    messages = posts(slack, sub.channel_id)
    shown = {(b["elements"][0]["value"]) for m in messages for b in m["blocks"] or []
             if b.get("type") == "actions" and b["elements"][0]["action_id"] == "jb_churn_ack"}
    with session_scope(runtime.knowledge.engine) as session:
        recorded = {f"{company}|{rule}" for company, rule in _sent(session, sub.channel_id)}
    assert recorded and shown == recorded
    assert len(messages) >= 2, "the sandbox portal has more low-severity risks than one message holds"
    assert all(len(m["blocks"]) <= 50 for m in messages)
    assert "more alerts" not in json.dumps(messages)  # nothing points elsewhere for the rest
