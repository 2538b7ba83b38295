"""The real Bolt app served over HTTP on 127.0.0.1, its WebClient pointed at a local
Slack Web API stand-in, driven by correctly signed requests."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from bot.app import build_runtime, create_app
from bot.http import make_wsgi_app
from bot.runtime import BotRuntime
from config import Settings
from knowledge.service import KnowledgeService
from sandbox.slack_api import SlackStandIn
from tests.standins.openai_api import OpenAIStandIn

SIGNING_SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-test-token"


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def console_script(name: str) -> str:
    """The path of a console script installed beside this interpreter."""
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    assert found, f"{name} is installed with the package"
    return found


def process_env(settings: Settings, slack_base_url: str, **extra: str) -> dict[str, str]:
    """The environment of a bot process started as a user starts it: this one's without any
    journeybot setting, plus `settings`' database, data and model folders, the bot token
    and the Slack stand-in's address."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("JOURNEYBOT_") and k != "DATABASE_URL"},
        "DATABASE_URL": settings.database_url, "JOURNEYBOT_DATA_DIR": str(settings.data_dir),
        "JOURNEYBOT_EMBEDDING_MODEL_DIR": str(settings.embedding_model_dir),
        "JOURNEYBOT_SLACK_BOT_TOKEN": BOT_TOKEN, "JOURNEYBOT_SLACK_API_BASE_URL": slack_base_url, **extra,
    }


def sign(body: bytes, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Reply:
    status: int
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class BotServer:
    url: str
    slack: SlackStandIn
    runtime: BotRuntime

    def post(self, body: bytes, headers: dict[str, str], path: str = "/slack/events") -> Reply:
        request = urllib.request.Request(self.url + path, data=body, headers=headers, method="POST")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Reply(response.status, response.read(), time.perf_counter() - started)
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, exc.read(), time.perf_counter() - started)

    def signed(self, body: bytes, content_type: str, *, timestamp: int | None = None, extra: dict[str, str] | None = None) -> Reply:
        ts = int(time.time()) if timestamp is None else timestamp
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign(body, ts)}
        headers.update(extra or {})
        return self.post(body, headers)

    def slash(self, text: str, *, channel: str = "C0SALES", user: str = "U0REP") -> Reply:
        form = {
            "command": "/journey", "text": text, "channel_id": channel, "user_id": user, "team_id": "T0TEST",
            "user_name": "rep", "channel_name": "sales", "response_url": self.slack.response_url(), "trigger_id": "1.2.3",
            "api_app_id": "A0JOURNEY", "token": "legacy-verification-token",
        }
        return self.signed(urlencode(form).encode(), "application/x-www-form-urlencoded")

    def event(self, event: dict[str, Any], *, event_id: str, retry: int | None = None) -> Reply:
        payload = {"type": "event_callback", "team_id": "T0TEST", "api_app_id": "A0JOURNEY", "event": event,
                   "event_id": event_id, "event_time": int(time.time()), "authorizations": [{"user_id": "U0JOURNEY", "is_bot": True}]}
        extra = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return self.signed(json.dumps(payload).encode(), "application/json", extra=extra)

    def action(self, action_id: str, value: str, *, channel: str = "C0SALES", user: str = "U0REP", ts: str = "1700000000.000200") -> Reply:
        payload = {"type": "block_actions", "team": {"id": "T0TEST"}, "user": {"id": user}, "api_app_id": "A0JOURNEY",
                   "channel": {"id": channel}, "container": {"type": "message", "channel_id": channel, "message_ts": ts},
                   "message": {"ts": ts, "type": "message"}, "trigger_id": "1.2.3", "response_url": self.slack.response_url("a1"),
                   "actions": [{"action_id": action_id, "block_id": "b1", "value": value, "type": "button", "action_ts": "1"}]}
        return self.signed(urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded")


@pytest.fixture
def slack_api() -> Iterator[SlackStandIn]:
    server = SlackStandIn().start()
    yield server
    server.stop()


def bot_settings(sample_service: Any, slack_api: SlackStandIn, **overrides: Any) -> Settings:
    values = {
        **sample_service.settings.model_dump(),
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_base_url": slack_api.base_url,
        "slack_crm_users": "U0ADMIN",
    }
    values.update(overrides)
    return Settings.from_mapping(values)


@pytest.fixture
def make_bot(sample_service: Any, slack_api: SlackStandIn) -> Iterator[Any]:
    servers: list[Any] = []

    def build(**overrides: Any) -> BotServer:
        settings = bot_settings(sample_service, slack_api, **overrides)
        runtime = build_runtime(settings, knowledge=KnowledgeService(settings, engine=sample_service.engine))
        httpd = make_server("127.0.0.1", 0, make_wsgi_app(create_app(runtime)), server_class=_ThreadingWSGIServer,
                            handler_class=_QuietHandler)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        servers.append(httpd)
        return BotServer(f"http://127.0.0.1:{httpd.server_address[1]}", slack_api, runtime)

    yield build
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def bot(make_bot: Any) -> BotServer:
    return make_bot()


@pytest.fixture
def llm() -> Iterator[OpenAIStandIn]:
    """A local OpenAI-compatible server that writes one word every 0.3 s."""
    server = OpenAIStandIn().start()
    server.token_delay_s = 0.3
    yield server
    server.stop()
