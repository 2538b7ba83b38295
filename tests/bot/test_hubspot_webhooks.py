"""HubSpot's deal-stage webhooks through the real WSGI app: the sandbox's own signed
webhooks are accepted and their deal ids reach the queued job (in-process queue, and the
durable queue with a worker process); forged, stale, future and malformed requests are
refused and queue nothing; a repeated event id queues once."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from wsgiref.simple_server import make_server

import psycopg
import pytest
from pydantic import SecretStr

from bot.app import build_runtime, create_web_app
from bot.runtime import BotRuntime
from bot.work_queue import conninfo
from knowledge.service import KnowledgeService
from sandbox.generator import generate_portal
from sandbox.model import PortalSize
from sandbox.server import SandboxServer
from sandbox.slack_api import SlackStandIn
from sandbox.webhooks import WebhookTarget, signed_headers
from tests.bot.conftest import BotServer, Reply, _QuietHandler, _ThreadingWSGIServer, bot_settings
from tests.bot.test_work_queue import queue_settings, start_worker  # noqa: F401 - a fixture and a helper

SECRET = "hubspot-app-client-secret-42"
PATH = "/hubspot/webhooks"


@dataclass
class Webhooks:
    bot: BotServer
    runtime: BotRuntime
    calls: list[list[str]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return self.bot.url + PATH

    def record(self, deal_ids: list[str]) -> None:
        with self.arrived:
            self.calls.append(deal_ids)
            self.arrived.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[list[str]]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.calls) >= count, timeout), self.calls
            return list(self.calls)

    def post(self, body: bytes, headers: dict[str, str]) -> Reply:
        return self.bot.post(body, headers, path=PATH)

    def signed(self, body: bytes, *, secret: str = SECRET, at_ms: int | None = None) -> Reply:
        stamp = int(time.time() * 1000) if at_ms is None else at_ms
        return self.post(body, signed_headers(secret, self.url, body, stamp))


def event(event_id: int, deal_id: int, **overrides: Any) -> dict[str, Any]:
    base = {"eventId": event_id, "subscriptionId": 11, "portalId": 4242, "appId": 77, "occurredAt": 1_700_000_000_000,
            "subscriptionType": "deal.propertyChange", "attemptNumber": 0, "objectId": deal_id,
            "propertyName": "dealstage", "propertyValue": "contractsent", "changeSource": "CRM_UI"}
    return {**base, **overrides}


def batch(*events: dict[str, Any]) -> bytes:
    return json.dumps(list(events)).encode()


@pytest.fixture
def make_webhooks(sample_service: Any, slack_api: SlackStandIn) -> Iterator[Callable[..., Webhooks]]:
    servers: list[Any] = []

    def build(**overrides: Any) -> Webhooks:
        holder: list[Webhooks] = []
        settings = bot_settings(sample_service, slack_api, **overrides)
        runtime = build_runtime(settings, knowledge=KnowledgeService(settings, engine=sample_service.engine),
                                on_deal_changes=lambda ids: holder[0].record(ids))
        httpd = make_server("127.0.0.1", 0, create_web_app(runtime), server_class=_ThreadingWSGIServer,
                            handler_class=_QuietHandler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        holder.append(Webhooks(BotServer(f"http://127.0.0.1:{httpd.server_address[1]}", slack_api, runtime), runtime))
        return holder[0]

    yield build
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def hooks(make_webhooks: Callable[..., Webhooks]) -> Webhooks:
    return make_webhooks(hubspot_client_secret=SECRET)


def test_a_sandbox_move_reaches_the_queued_job(hooks: Webhooks) -> None:
    portal = generate_portal(7, PortalSize(companies=10, contacts=30, deals=30, engagements=20))
    deal = next(d for d in portal.records("deals") if d.properties["hs_is_closed"] == "false")
    target = WebhookTarget(hooks.url, app_id=77, client_secret=SECRET)
    with SandboxServer(portal, rate_limit=None, search_rate_limit=None, webhooks=target) as sandbox:
        sandbox.move_deal(deal.id, "closedwon")
        assert sandbox.webhooks is not None and sandbox.webhooks.wait_idle(10)
        assert [d.status for d in sandbox.webhooks.deliveries] == [200]
        assert hooks.wait_for(1) == [[str(deal.id)]]
        moves = sandbox.advance_deals(3, seed=5)  # one batch of three events: one job
        assert sandbox.webhooks.wait_idle(10)
    assert hooks.wait_for(2)[1] == [str(m.deal_id) for m in moves]


def test_forged_stale_future_and_malformed_requests_queue_nothing(hooks: Webhooks, caplog: pytest.LogCaptureFixture) -> None:
    body = batch(event(1, 3_000_000_001))
    now = int(time.time() * 1000)
    forged = signed_headers(SECRET, hooks.url, body, now)
    forged["X-HubSpot-Signature-v3"] = base64.b64encode(b"x" * 32).decode()
    unsigned = {"Content-Type": "application/json", "X-HubSpot-Request-Timestamp": str(now)}
    with caplog.at_level(logging.WARNING, logger="bot.hubspot_webhooks"):
        replies = [
            hooks.post(body, forged),
            hooks.signed(body, secret="not-the-app-secret"),
            hooks.signed(body, at_ms=now - 6 * 60 * 1000),  # six minutes old
            hooks.signed(body, at_ms=now + 2 * 60 * 1000),  # from the future
            hooks.post(body, unsigned),
            hooks.post(body, signed_headers(SECRET, hooks.url + "?other=1", body, now)),  # signed for another URL
            hooks.signed(b"not json"),
            hooks.signed(b'{"eventId": 1, "objectId": 2}'),  # an object, not a batch
            hooks.signed(batch(event(2, 3_000_000_002, objectId=None))),
            hooks.signed(batch(event(10**30, 3_000_000_002))),  # no HubSpot id is that long
        ]
    assert [r.status for r in replies] == [401, 401, 401, 401, 401, 401, 400, 400, 400, 400]
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == len(replies) and all("\n" not in line and SECRET not in line for line in refusals)
    # Nothing was queued or claimed: the same event, now genuine, goes through (and is the only job).
    assert hooks.signed(body).status == 200
    time.sleep(0.3)
    assert hooks.wait_for(1) == [["3000000001"]]


def test_a_repeated_event_queues_once_and_other_events_are_ignored(hooks: Webhooks) -> None:
    body = batch(event(10, 3_000_000_010), event(11, 3_000_000_011))
    assert hooks.signed(body).status == 200
    assert hooks.signed(body).status == 200  # HubSpot's retry, with a fresh timestamp: acked, not queued again
    other = batch(event(12, 3_000_000_012, propertyName="amount"), event(13, 3_000_000_013, subscriptionType="deal.creation"),
                  event(10, 3_000_000_010), event(14, 3_000_000_011))
    assert hooks.signed(other).status == 200  # only event 14 is new: its deal, once
    time.sleep(0.3)
    assert hooks.wait_for(2) == [["3000000010", "3000000011"], ["3000000011"]]


def test_without_a_client_secret_the_endpoint_is_off(make_webhooks: Callable[..., Webhooks],
                                                      caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="bot.app"):
        hooks = make_webhooks()
    assert any("HubSpot webhooks are off" in r.getMessage() for r in caplog.records)
    assert hooks.signed(batch(event(1, 3_000_000_001))).status == 404
    assert hooks.bot.post(b"{}", {"Content-Type": "application/json"}, path="/healthz").status == 200


def test_on_postgresql_the_job_is_durable_and_a_worker_process_takes_it(
        queue_settings: Any, slack_api: SlackStandIn, tmp_path: Any) -> None:
    """The web process only queues (procrastinate's table); a `journeybot slack worker` runs the nudge
    scan for those deals (here without a CRM token: it says so in its log line)."""
    settings = queue_settings.model_copy(update={"hubspot_client_secret": SecretStr(SECRET)})
    knowledge = KnowledgeService(settings)
    knowledge.index()
    runtime = build_runtime(settings, knowledge=knowledge)
    httpd = make_server("127.0.0.1", 0, create_web_app(runtime), server_class=_ThreadingWSGIServer,
                        handler_class=_QuietHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        hooks = Webhooks(BotServer(f"http://127.0.0.1:{httpd.server_address[1]}", slack_api, runtime), runtime)
        body = batch(event(21, 3_000_000_021), event(22, 3_000_000_022))
        assert hooks.signed(body).status == 200
        assert hooks.signed(body).status == 200  # a duplicate delivery: still one job
        with psycopg.connect(conninfo(settings)) as connection:
            rows = connection.execute("SELECT args FROM procrastinate_jobs").fetchall()
        assert [row[0]["job"]["deal_ids"] for row in rows] == [["3000000021", "3000000022"]]
        log_file = tmp_path / "worker.log"
        worker = start_worker(settings, log_file)
        try:
            deadline = time.monotonic() + 90
            while "webhook nudge scan of 2 deals" not in log_file.read_text() and time.monotonic() < deadline:
                time.sleep(0.3)
            assert "webhook nudge scan of 2 deals" in log_file.read_text(), log_file.read_text()[-3000:]
        finally:
            worker.terminate()
            worker.wait(timeout=15)
    finally:
        httpd.shutdown()
        httpd.server_close()
