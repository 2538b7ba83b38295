"""The Procfile's `web` process: gunicorn serving bot.wsgi with settings from the
environment, answering the health check and a signed slash command."""

from __future__ import annotations

import logging
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from sandbox.slack_api import SlackStandIn
from tests.bot.conftest import SIGNING_SECRET, console_script, process_env, sign
from tests.conftest import free_port


def test_gunicorn_serves_the_bot(sample_service: Any, slack_api: SlackStandIn, tmp_path: Path) -> None:
    port = free_port()
    env = process_env(sample_service.settings, slack_api.base_url, JOURNEYBOT_SLACK_SIGNING_SECRET=SIGNING_SECRET)
    process = subprocess.Popen(
        [console_script("gunicorn"), "--workers", "2", "--threads", "4", "--bind", f"127.0.0.1:{port}", "bot.wsgi:application"],
        env=env, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert process.poll() is None, process.stdout.read().decode()[-3000:] if process.stdout else ""
                assert time.monotonic() < deadline, "gunicorn did not come up"
                time.sleep(0.3)
        body = urlencode({"command": "/journey", "text": "ask what does the research stage mean?", "channel_id": "C1",
                          "user_id": "U1", "team_id": "T0TEST", "response_url": slack_api.response_url(), "trigger_id": "1"}).encode()
        ts = int(time.time())
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/slack/events", data=body, method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": str(ts),
                     "X-Slack-Signature": sign(body, ts)},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        slack_api.wait_for(lambda calls: any(c["method"] == "response_url" for c in calls), timeout=30)
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_boot_warns_loudly_when_no_map_is_configured(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    """An unset map path serves the packaged sample map: fine for the demo (which names
    it), a surprise in production, so booting the bot says so."""
    from slack_sdk import WebClient

    from bot.app import build_runtime
    from config import Settings
    from knowledge.service import KnowledgeService

    base = {"slack_bot_token": "xoxb-x", "slack_signing_secret": "s", "data_dir": tmp_path}
    for values, warned in ((base, True), ({**base, "journey_map_path": tmp_path / "ours.yaml"}, False)):
        caplog.clear()
        settings = Settings.from_mapping(values)
        with caplog.at_level(logging.WARNING, logger="bot.app"):
            build_runtime(settings, knowledge=KnowledgeService(settings), client=WebClient(token="xoxb-x"))
        said = [r.getMessage() for r in caplog.records if "JOURNEYBOT_JOURNEY_MAP_PATH" in r.getMessage()]
        assert bool(said) is warned, said
