"""Scheduler fixtures: the real bot runtime (WebClient on the Slack stand-in, which keeps
posted messages for conversations.history), the shared sample knowledge engine and a
SandboxServer CRM. Clocks are explicit: tests pass fire times and `now` to the code."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import delete

from bot.app import build_runtime
from bot.runtime import BotRuntime
from knowledge.service import KnowledgeService
from sandbox.generator import generate_portal
from sandbox.server import SandboxServer
from sandbox.slack_api import SlackStandIn
from storage.crm_snapshot import clear_snapshot
from storage.deal_stage_watch import StageWatchState, WatchedDeal
from storage.engine import session_scope
from storage.nudge_ledger import NudgeEntry
from storage.subscriptions import Subscription, add_subscription
from tests.bot.conftest import bot_settings
from tests.skills.conftest import SKILL_NOW, SKILL_TOKEN

MONDAY_0900 = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)  # ISO week 2025-W23
LEASE_S = 600


@pytest.fixture(scope="module")
def crm() -> Iterator[SandboxServer]:
    with SandboxServer(generate_portal(23, now=SKILL_NOW), token=SKILL_TOKEN, rate_limit=None,
                       search_rate_limit=None) as server:
        yield server


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    server = SlackStandIn(clock=time.time).start()
    yield server
    server.stop()


@pytest.fixture
def runtime(sample_service: Any, slack: SlackStandIn, crm: SandboxServer) -> BotRuntime:
    settings = bot_settings(
        sample_service, slack, hubspot_access_token=SKILL_TOKEN, hubspot_base_url=crm.base_url,
        hubspot_backoff_base_s=0.01, hubspot_backoff_max_s=0.02, hubspot_max_retries=1, hubspot_rate_limit=1000,
        hubspot_rate_window_s=1.0, hubspot_timeout_s=5.0, scheduler_lease_s=LEASE_S,
    )
    with session_scope(sample_service.engine) as session:
        clear_snapshot(session)
    crm.faults.clear()
    return build_runtime(settings, knowledge=KnowledgeService(settings, engine=sample_service.engine))


@pytest.fixture
def nudges(runtime: BotRuntime) -> BotRuntime:
    """The runtime with no nudge state from other tests (the sample engine is shared by the session)."""
    with session_scope(runtime.knowledge.engine) as session:
        for table in (NudgeEntry, WatchedDeal, StageWatchState):
            session.execute(delete(table))
    return runtime


@pytest.fixture
def subscribe(runtime: BotRuntime) -> Callable[..., Subscription]:
    """A subscription in a channel of its own (the sample engine is shared by the session)."""
    def add(kind: str = "digest", cron: str = "0 9 * * mon", timezone: str = "UTC", **filters: Any) -> Subscription:
        with session_scope(runtime.knowledge.engine) as session:
            return add_subscription(session, channel_id=f"C{uuid.uuid4().hex[:10].upper()}", kind=kind,  # type: ignore[arg-type]
                                    cron=cron, timezone=timezone, filters=filters)

    return add


def posts(slack: SlackStandIn, channel: str) -> list[dict[str, Any]]:
    return [c["params"] for c in slack.of("chat.postMessage") if c["params"].get("channel") == channel]
