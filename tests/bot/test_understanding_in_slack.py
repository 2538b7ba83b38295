"""Mentions in plain words reach the CRM skill they ask for, and a follow-up in the
thread keeps the account: real app, signed events, the sandbox portal, the Slack stand-in."""

from __future__ import annotations

import json
from typing import Any

from sandbox.server import SandboxServer
from storage.crm_snapshot import clear_snapshot
from storage.engine import session_scope
from tests.bot.conftest import BotServer
from tests.skills.account_fixtures import (  # noqa: F401  (fixtures)
    PLANTED_NAME,
    TOKEN,
    planted_portal,
    skill_server,
)


def _posts(bot: BotServer, n: int) -> list[dict[str, Any]]:
    calls = bot.slack.wait_for(lambda c: len([x for x in c if x["method"] == "chat.postMessage"]) >= n, timeout=30)
    return [c["params"] for c in calls if c["method"] == "chat.postMessage"]


def test_a_thread_follow_up_runs_on_the_threads_account(make_bot: Any, skill_server: SandboxServer) -> None:
    bot = make_bot(hubspot_access_token=TOKEN, hubspot_base_url=skill_server.base_url, slack_crm_users="U0REP",
                   hubspot_backoff_base_s=0.01)
    with session_scope(bot.runtime.knowledge.engine) as session:  # the engine is shared: forget other portals' records
        clear_snapshot(session)
    first = {"type": "app_mention", "user": "U0REP", "channel": "C0ANY", "ts": "1700000050.000100",
             "text": f"<@U0JOURNEY> {PLANTED_NAME} - how engaged are they?"}
    bot.event(first, event_id="EvU01")
    answer = _posts(bot, 1)[0]
    assert answer["thread_ts"] == "1700000050.000100" and PLANTED_NAME in json.dumps(answer)
    assert "readiness" in json.dumps(answer).lower()
    follow = {"type": "message", "user": "U0REP", "text": "who else should we talk to there?", "channel": "C0ANY",
              "channel_type": "channel", "ts": "1700000050.000300", "thread_ts": "1700000050.000100"}
    bot.event(follow, event_id="EvU02")
    second = _posts(bot, 2)[1]
    assert second["thread_ts"] == "1700000050.000100" and PLANTED_NAME in json.dumps(second)
    assert "readiness" in json.dumps(second).lower()
