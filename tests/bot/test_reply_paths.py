"""Every reply path through a Slack stand-in that refuses posts where the bot is not a
member, as Slack does: private channels, DMs between people, channels it was never
invited to, archived channels."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from typing import Any
from wsgiref.simple_server import make_server

import pytest

from bot import ids
from bot.app import build_runtime, create_app
from bot.http import make_wsgi_app
from knowledge.service import KnowledgeService
from tests.bot.conftest import BotServer, _QuietHandler, _ThreadingWSGIServer, bot_settings

OUTSIDE = {"C0NOTINVITED": "not_in_channel", "G0PRIVATE": "channel_not_found", "D0TWOPEOPLE": "channel_not_found",
           "C0ARCHIVED": "is_archived"}


def answers(bot: BotServer, url: str) -> list[dict[str, Any]]:
    return [c["params"] for c in bot.slack.of("response_url") if c["params"]["_url"] == url]


@pytest.mark.parametrize("channel", list(OUTSIDE))
def test_slash_answers_arrive_where_the_bot_is_not_a_member(bot: BotServer, channel: str) -> None:
    bot.slack.outside.update(OUTSIDE)
    assert bot.slash("ask what does the decision stage mean?", channel=channel).status == 200
    bot.slack.wait_for(lambda c: any(x["method"] == "response_url" for x in c))
    reply = answers(bot, "r1")[-1]
    assert reply["response_type"] == "ephemeral" and "Decision" in reply["text"]
    refused = [c for c in bot.slack.calls if c["failed"] in OUTSIDE.values()]
    assert refused == []  # nothing was even tried through the Web API


def test_private_charts_go_to_the_askers_dm_never_the_channel(bot: BotServer) -> None:
    bot.slack.outside.update(OUTSIDE)
    bot.slash("gaps", channel="G0PRIVATE", user="U0REP")
    bot.slack.wait_for(lambda c: len([x for x in c if x["method"] == "files.completeUploadExternal"]) >= 2, timeout=40)
    time.sleep(0.3)  # nothing else follows
    uploads = bot.slack.of("files.completeUploadExternal")
    assert [u["params"]["channel_id"] for u in uploads] == ["D0REP", "D0REP"]  # the heatmap and the CSV
    opened = bot.slack.of("conversations.open")[0]["params"]
    assert opened["users"] == "U0REP"


def test_show_more_sends_no_file_again(bot: BotServer) -> None:
    bot.action(ids.SHOW_MORE, "gaps|5|", channel="C0SALES")
    bot.slack.wait_for(lambda c: any(x["method"] == "response_url" for x in c), timeout=40)
    time.sleep(0.5)
    assert not bot.slack.of("files.completeUploadExternal") and not bot.slack.of("upload")


def test_an_expired_response_url_falls_back_to_the_web_api_then_a_dm(bot: BotServer) -> None:
    bot.slack.outside.update(OUTSIDE)
    bot.slack.fail_next("response_url", "expired")
    bot.slash("ask what does the research stage mean?", channel="C0NOTINVITED")
    calls = bot.slack.wait_for(lambda c: any(x["method"] == "chat.postMessage" for x in c))
    failed = [(c["method"], c["failed"]) for c in calls if c["failed"]]
    assert failed == [("response_url", "expired"), ("chat.postEphemeral", "not_in_channel")]
    dm = bot.slack.of("chat.postMessage")[0]["params"]
    assert dm["channel"] == "D0REP" and "Research" in dm["text"]


def test_share_posts_for_the_channel_through_response_url(bot: BotServer) -> None:
    bot.slack.outside.update(OUTSIDE)
    bot.action(ids.SHARE, "ask|q:what does the decision stage mean?", channel="G0PRIVATE")
    bot.slack.wait_for(lambda c: any(x["method"] == "response_url" for x in c))
    shared = answers(bot, "a1")[-1]
    assert shared["response_type"] == "in_channel" and "Decision" in shared["text"]


def test_churn_acknowledge_updates_the_alert_for_the_channel(bot: BotServer) -> None:
    posted = bot.runtime.client.chat_postMessage(channel="C0CS", text="churn alert",
                                                 blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "Acme at risk"}}])
    ts = posted["ts"]
    payload = {"type": "block_actions", "team": {"id": "T0TEST"}, "user": {"id": "U0CSM"}, "api_app_id": "A0JOURNEY",
               "channel": {"id": "C0CS"}, "container": {"type": "message", "channel_id": "C0CS", "message_ts": ts},
               "message": {"ts": ts, "type": "message", "blocks": posted["message"].get("blocks") or
                           [{"type": "section", "text": {"type": "mrkdwn", "text": "Acme at risk"}}]},
               "response_url": bot.slack.response_url("a2"),
               "actions": [{"action_id": ids.CHURN_ACK, "value": "1000000042|silence", "type": "button"}]}
    from urllib.parse import urlencode

    assert bot.signed(urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded").status == 200
    bot.slack.wait_for(lambda c: any(x["method"] == "chat.update" for x in c))
    stored = next(m for m in bot.slack.messages["C0CS"] if m["ts"] == ts)
    text = json.dumps(stored["blocks"])
    assert "Acme at risk" in text and "Acknowledged by <@U0CSM>." in text


def test_the_web_process_boots_and_serves_health_without_slack(sample_service: Any, slack_api: Any) -> None:
    """Slack unreachable at boot (a dead port): no token check at construction."""
    settings = bot_settings(sample_service, slack_api, slack_api_base_url="http://127.0.0.1:9/api/")
    runtime = build_runtime(settings, knowledge=KnowledgeService(settings, engine=sample_service.engine))
    httpd = make_server("127.0.0.1", 0, make_wsgi_app(create_app(runtime)), server_class=_ThreadingWSGIServer,
                        handler_class=_QuietHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{httpd.server_address[1]}/healthz", timeout=5) as response:
            assert response.status == 200
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_forged_button_value_gets_a_clear_message(bot: BotServer) -> None:
    bot.action(ids.SHOW_MORE, "gaps|not-a-number")
    bot.slack.wait_for(lambda c: any(x["method"] == "response_url" for x in c))
    reply = answers(bot, "a1")[-1]
    assert "no longer works" in reply["text"] and "error id" not in reply["text"]


def _buttons(payload: dict[str, Any]) -> dict[str, str]:
    return {e["action_id"]: e["value"] for b in payload.get("blocks") or [] if b.get("type") == "actions"
            for e in b["elements"] if e.get("type") == "button"}


def test_share_posts_the_answer_the_user_saw_without_asking_again(bot: BotServer) -> None:
    from storage.engine import session_scope
    from storage.question_log import list_questions

    bot.slash("ask what does the decision stage mean?", channel="C0KEEP")
    bot.slack.wait_for(lambda c: any(x["method"] == "response_url" for x in c))
    private = answers(bot, "r1")[-1]
    share = _buttons(private)[ids.SHARE]
    assert share.startswith("ask|@")  # points at the kept run
    with session_scope(bot.runtime.knowledge.engine) as session:
        logged = len(list_questions(session, limit=1000))
    bot.action(ids.SHARE, share, channel="C0KEEP")
    bot.slack.wait_for(lambda c: any(x["params"].get("response_type") == "in_channel" for x in c))
    shared = answers(bot, "a1")[-1]
    assert shared["text"] == private["text"] and ids.SHARE not in _buttons(shared)
    with session_scope(bot.runtime.knowledge.engine) as session:
        assert len(list_questions(session, limit=1000)) == logged  # the gap audit counts the question once


def test_a_missing_model_is_our_fault_with_an_error_id_and_one_log_line(make_bot: Any, tmp_path: Any,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    """The rep sees an error id, never a server path; the log names the setting in one line."""
    bot = make_bot(embedding_model_dir=tmp_path / "no-model")
    with caplog.at_level("ERROR", logger="bot.dispatch"):
        assert bot.slash("ask what do I send a CFO?").status == 200
        bot.slack.wait_for(lambda c: any(x["method"] == "response_url" for x in c))
    reply = answers(bot, "r1")[-1]
    error_id = re.search(r"error id ([0-9a-f]{8})", reply["text"])
    assert error_id and "no-model" not in json.dumps(reply)
    [record] = [r for r in caplog.records if error_id.group(1) in r.getMessage()]
    assert "JOURNEYBOT_EMBEDDING_MODEL_DIR" in record.getMessage() and record.exc_info is None
