"""Socket Mode as a user starts it (`journeybot slack socket`, a real process): a missing
token is one line naming the setting, with the exit code of a setting to fix, and nothing
written; connected to the local Socket Mode endpoint, it acknowledges each envelope and
answers once, through the reply path each kind of request has."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.slack_api import SlackStandIn
from sandbox.slack_workspace import APP_ID, BOT_USER, TEAM_ID
from sandbox.socket_mode import SocketModeStandIn
from tests.bot.conftest import BOT_TOKEN, console_script, process_env


@pytest.mark.parametrize(("env", "named"), [
    ({}, "JOURNEYBOT_SLACK_APP_TOKEN"),
    ({"JOURNEYBOT_SLACK_APP_TOKEN": "xapp-0-0"}, "JOURNEYBOT_SLACK_BOT_TOKEN"),
])
def test_python_m_socket_mode_names_the_missing_token(env: dict[str, str], named: str, tmp_path: Path) -> None:
    base = {k: v for k, v in os.environ.items() if not (k.startswith("JOURNEYBOT_") or k == "DATABASE_URL")}
    data_dir = tmp_path / "state"
    result = subprocess.run([sys.executable, "-m", "bot.socket_mode"], env={**base, **env, "JOURNEYBOT_DATA_DIR": str(data_dir)},
                            cwd=tmp_path, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert named in lines[0] and "Traceback" not in result.stderr
    assert not data_dir.exists()


APP_TOKEN = "xapp-1-A0JOURNEY-test"


@pytest.fixture
def socket_endpoint(slack_api: SlackStandIn) -> Iterator[SocketModeStandIn]:
    endpoint = SocketModeStandIn().start()
    slack_api.socket_url = endpoint.url
    yield endpoint
    endpoint.stop()


@pytest.fixture
def socket_bot(sample_service: Any, slack_api: SlackStandIn, socket_endpoint: SocketModeStandIn,
               tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`journeybot slack socket` as a user starts it, connected to the stand-ins."""
    env = process_env(sample_service.settings, slack_api.base_url,
                      JOURNEYBOT_SLACK_APP_TOKEN=APP_TOKEN, JOURNEYBOT_LOG_LEVEL="INFO")
    log = tmp_path / "socket.log"
    process = subprocess.Popen([console_script("journeybot"), "slack", "socket"], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    try:
        assert socket_endpoint.wait_connected(90), log.read_text()
        yield process
    finally:
        process.terminate()
        process.wait(10)
    assert APP_TOKEN not in log.read_text() and BOT_TOKEN not in log.read_text()


def _calls(slack_api: SlackStandIn, method: str, timeout: float) -> list[dict[str, Any]]:
    """The stand-in's calls of `method` once the first has come, or none after `timeout`."""
    try:
        slack_api.wait_for(lambda calls: any(c["method"] == method for c in calls), timeout)
    except AssertionError:
        return []
    time.sleep(0.5)  # a second post, had there been one, has arrived by now
    return slack_api.of(method)


def test_a_slash_command_over_socket_mode_is_acked_and_answered_once(
    socket_bot: subprocess.Popen[bytes], socket_endpoint: SocketModeStandIn, slack_api: SlackStandIn,
) -> None:
    envelope = socket_endpoint.deliver("slash_commands", {
        "command": "/journey", "text": "ask what should I send a CFO who worries about cost?", "channel_id": "C0SALES",
        "user_id": "U0REP", "team_id": TEAM_ID, "api_app_id": APP_ID, "user_name": "rep", "channel_name": "sales",
        "response_url": slack_api.response_url("s1"), "trigger_id": "1.2.3", "token": "legacy-verification-token",
    })
    assert socket_endpoint.wait_ack(envelope, 3.0) is not None
    replies = _calls(slack_api, "response_url", 30)
    assert len(replies) == 1, replies
    answer = replies[0]["params"]
    assert answer["_url"] == "s1" and answer.get("blocks")
    assert "Best fits for Financial gatekeeper" in answer["text"] and "[1]" in answer["text"]
    assert not [c for c in slack_api.calls if c["method"] in ("chat.postEphemeral", "chat.postMessage")]


def test_a_mention_over_socket_mode_is_answered_in_its_thread(
    socket_bot: subprocess.Popen[bytes], socket_endpoint: SocketModeStandIn, slack_api: SlackStandIn,
) -> None:
    ts = "1700200000.000100"
    event = {"type": "app_mention", "user": "U0REP", "text": f"<@{BOT_USER}> what should I send a CFO who worries about cost?",
             "channel": "C0SALES", "ts": ts, "event_ts": ts}
    body = {"type": "event_callback", "team_id": TEAM_ID, "api_app_id": APP_ID, "event": event, "event_id": "Ev0SOCKET1",
            "event_time": int(time.time()), "authorizations": [{"user_id": BOT_USER, "is_bot": True}]}
    assert socket_endpoint.wait_ack(socket_endpoint.deliver("events_api", body), 3.0) is not None
    posts = [c for c in _calls(slack_api, "chat.postMessage", 30) if c["params"].get("thread_ts") == ts]
    assert len(posts) == 1, slack_api.calls
    assert posts[0]["params"]["channel"] == "C0SALES"


def test_an_event_for_another_app_over_socket_mode_is_not_answered(
    socket_bot: subprocess.Popen[bytes], socket_endpoint: SocketModeStandIn, slack_api: SlackStandIn,
) -> None:
    for n, app_id in enumerate(("A0SOMEONEELSE", APP_ID)):
        ts = f"1700200000.00030{n}"
        event = {"type": "app_mention", "user": "U0REP", "text": f"<@{BOT_USER}> what should I send a CFO?",
                 "channel": "C0SALES", "ts": ts, "event_ts": ts}
        body = {"type": "event_callback", "team_id": TEAM_ID, "api_app_id": app_id, "event": event,
                "event_id": f"Ev0SOCKET3{n}", "event_time": int(time.time())}
        socket_endpoint.wait_ack(socket_endpoint.deliver("events_api", body), 3.0)
    posts = _calls(slack_api, "chat.postMessage", 30)
    assert [p["params"].get("thread_ts") for p in posts] == ["1700200000.000301"], posts
