"""A mention answered by the LLM streams into its thread through the real app: signed
event, queue, worker, Slack stand-in, and a local OpenAI-compatible server writing slowly."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select

from bot import ids
from storage.engine import session_scope
from storage.question_log import QuestionLogEntry
from storage.slack_state import fetch_thread_context
from tests.bot.conftest import BotServer
from tests.standins.openai_api import OpenAIStandIn

QUESTION = "CFO keeps asking about ROI, what do I send?"
MENTION_TS = "1700000070.000100"


def llm_bot(make_bot: Any, llm: OpenAIStandIn) -> BotServer:
    bot: BotServer = make_bot(llm_provider="openai-compatible", llm_model="stand-in-model", llm_base_url=llm.base_url,
                              llm_timeout_s=5)
    return bot


def _stopped(bot: BotServer) -> dict[str, Any]:
    bot.slack.wait_for(lambda calls: any(c["method"] == "chat.stopStream" for c in calls), timeout=30)
    return next(m for m in bot.slack.messages["C0STREAM"] if m.get("stream_state") == "stopped")


def test_a_mention_streams_its_answer_into_the_thread(make_bot: Any, llm: OpenAIStandIn) -> None:
    bot = llm_bot(make_bot, llm)
    event = {"type": "app_mention", "user": "U0REP", "channel": "C0STREAM", "ts": MENTION_TS,
             "text": f"<@U0JOURNEY> {QUESTION}"}
    assert bot.event(event, event_id="EvS01").status == 200
    message = _stopped(bot)
    start, = bot.slack.of("chat.startStream")
    assert start["params"]["thread_ts"] == MENTION_TS and start["params"]["recipient_team_id"] == "T0TEST"
    assert len(bot.slack.of("chat.appendStream")) >= 1, "text went out while the model wrote"
    assert message["text"].startswith("Send Fieldline ROI calculator [1]")
    closing = json.dumps(message["blocks"])
    assert "Sources: <" in closing and "LLM-written" in closing and "Share to channel" not in closing
    assert message["metadata"]["event_payload"]["event_id"] == "EvS01"
    assert not bot.slack.of("chat.postMessage"), "one reply, streamed"
    with session_scope(bot.runtime.knowledge.engine) as session:
        logged = session.exec(select(QuestionLogEntry).where(QuestionLogEntry.question == QUESTION)
                              .where(QuestionLogEntry.channel == "C0STREAM")).all()
        assert len(logged) == 1 and logged[0].source == "slack"
        feedback = next(b for b in message["blocks"] if b.get("block_id") == ids.FEEDBACK_BLOCK)
        assert any(b.get("block_id") == ids.OTHER_STAGE_BLOCK for b in message["blocks"])  # the stage was inferred
        assert {e["value"] for e in feedback["elements"]} == {str(logged[0].id)}
        context = fetch_thread_context(session, "C0STREAM", MENTION_TS)
        assert context is not None and context.stage_id == "decision"


def test_a_dm_without_a_thread_gets_the_whole_answer_at_once(make_bot: Any, llm: OpenAIStandIn) -> None:
    bot = llm_bot(make_bot, llm)
    event = {"type": "message", "user": "U0REP", "channel": "D0REP", "channel_type": "im", "ts": "1700000071.000100",
             "text": QUESTION}
    assert bot.event(event, event_id="EvS02").status == 200
    calls = bot.slack.wait_for(lambda c: any(x["method"] == "chat.postMessage" for x in c), timeout=30)
    posted = next(c["params"] for c in calls if c["method"] == "chat.postMessage")
    assert "thread_ts" not in posted or not posted["thread_ts"]
    assert "Fieldline ROI calculator" in json.dumps(posted) and not bot.slack.of("chat.startStream")
