"""Streaming an answer into a Slack thread: the real slack_sdk WebClient (its chat_stream
helper) against the Slack stand-in, fed by stream_answer over a real langchain client
and a local LLM stand-in that writes slowly."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.streaming import source_blocks, stream_to_thread
from config import Settings
from knowledge.answers import Answer, compose_answer
from knowledge.llm import build_chat_model
from knowledge.llm_stream import AnswerEvent, stream_answer
from sandbox.slack_api import SlackStandIn
from tests.bot.conftest import BOT_TOKEN
from tests.standins.openai_api import OpenAIStandIn

QUESTION = "CFO keeps asking about ROI, what do I send?"
CHANNEL, THREAD = "C0SALES", "1700000000.000100"


@pytest.fixture
def client(slack_api: SlackStandIn) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=slack_api.base_url)


def answer_events(sample_service: Any, llm: OpenAIStandIn | None) -> Iterator[AnswerEvent]:
    chat = None
    if llm is not None:
        chat = build_chat_model(Settings.from_mapping({"llm_provider": "openai-compatible", "llm_model": "stand-in-model",
                                                       "llm_base_url": llm.base_url, "llm_timeout_s": 2}))
    state = sample_service.live.current()
    retrieval = state.retriever.retrieve(QUESTION, k=5)
    return stream_answer(chat, retrieval, compose_answer(retrieval, state.journey_map), state.journey_map, timeout_s=2)


def closing_blocks(answer: Answer) -> list[dict[str, Any]]:
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": f"{len(answer.sources)} source(s), llm={answer.used_llm}"}]}]


def post(client: WebClient, events: Any, **kwargs: Any) -> str | None:
    return stream_to_thread(client, events, channel=CHANNEL, thread_ts=THREAD, team_id="T0TEST", user_id="U0REP", **kwargs)


def reply(slack: SlackStandIn, ts: str | None) -> dict[str, Any]:
    return next(m for m in slack.messages[CHANNEL] if m["ts"] == ts)


def _text_calls(slack: SlackStandIn) -> list[dict[str, Any]]:
    return [c for c in slack.calls if c["method"] in ("chat.startStream", "chat.appendStream", "chat.stopStream")
            and not c["failed"] and any(ch.get("text") for ch in c["params"].get("chunks") or [])]


def test_the_answer_streams_into_the_thread(sample_service: Any, llm: OpenAIStandIn, client: WebClient, slack_api: SlackStandIn) -> None:
    ts = post(client, answer_events(sample_service, llm), render_final=closing_blocks)
    start, = slack_api.of("chat.startStream")
    assert start["params"]["thread_ts"] == THREAD and start["params"]["recipient_team_id"] == "T0TEST"
    assert start["params"]["recipient_user_id"] == "U0REP" and start["params"]["channel"] == CHANNEL
    assert len(slack_api.of("chat.appendStream")) >= 1 and len(slack_api.of("chat.stopStream")) == 1
    message = reply(slack_api, ts)
    assert message["stream_state"] == "stopped" and message["thread_ts"] == THREAD
    assert message["text"].startswith("Send Fieldline ROI calculator [1]") and message["text"].endswith("exactly this.")
    assert message["blocks"] == [{"type": "context", "elements": [{"type": "mrkdwn", "text": "1 source(s), llm=True"}]}]
    assert not slack_api.of("chat.postMessage") and not slack_api.of("chat.update")


def test_first_text_reaches_slack_within_two_seconds_of_the_first_token(
    sample_service: Any, llm: OpenAIStandIn, client: WebClient, slack_api: SlackStandIn
) -> None:
    post(client, answer_events(sample_service, llm))
    first_text = _text_calls(slack_api)[0]
    assert first_text["method"] == "chat.startStream"
    assert first_text["at"] - llm.token_times[0] < 2.0
    assert first_text["at"] < llm.token_times[-1], "text must go out while the model is still writing"


def test_default_closing_blocks_carry_the_cited_sources(sample_service: Any, llm: OpenAIStandIn, client: WebClient,
                                                        slack_api: SlackStandIn) -> None:
    ts = post(client, answer_events(sample_service, llm))
    blocks = reply(slack_api, ts)["blocks"]
    assert blocks[0]["type"] == "context" and blocks[0]["elements"][0]["text"].startswith("Sources: <")
    assert "[1] Fieldline ROI calculator>" in blocks[0]["elements"][0]["text"] and "[2]" not in blocks[0]["elements"][0]["text"]


def test_slack_refusing_streams_falls_back_to_post_and_update(
    sample_service: Any, llm: OpenAIStandIn, client: WebClient, slack_api: SlackStandIn
) -> None:
    slack_api.fail_next("chat.startStream")
    ts = post(client, answer_events(sample_service, llm), render_final=closing_blocks)
    posted, = slack_api.of("chat.postMessage")
    assert posted["params"]["thread_ts"] == THREAD and posted["params"]["text"].startswith("Send")
    final = slack_api.of("chat.update")[-1]["params"]
    assert final["ts"] == ts and final["text"].endswith("exactly this.")
    assert final["blocks"] == [{"type": "markdown", "text": final["text"]}, *closing_blocks(_one_source())]
    assert not slack_api.of("chat.stopStream")


def _one_source() -> Answer:
    return Answer(question="q", text="t", answered=True, confidence=1.0, used_llm=True, sources=[None])  # type: ignore[list-item]


def test_an_append_refused_mid_stream_continues_by_editing_the_reply(
    sample_service: Any, llm: OpenAIStandIn, client: WebClient, slack_api: SlackStandIn
) -> None:
    slack_api.fail_next("chat.appendStream")
    ts = post(client, answer_events(sample_service, llm), render_final=closing_blocks)
    assert "stream_state" in reply(slack_api, ts), "the reply is the started stream message"
    assert not slack_api.of("chat.postMessage"), "the started stream message is edited, not a second reply"
    final = slack_api.of("chat.update")[-1]["params"]
    assert final["ts"] == ts and final["text"].endswith("exactly this.")


def test_a_model_failing_mid_stream_is_replaced_by_the_maps_answer(
    sample_service: Any, llm: OpenAIStandIn, client: WebClient, slack_api: SlackStandIn
) -> None:
    llm.mode = "fail_mid_stream"
    ts = post(client, answer_events(sample_service, llm), render_final=closing_blocks)
    assert slack_api.of("chat.startStream") and reply(slack_api, ts)["stream_state"] == "stopped"
    final = slack_api.of("chat.update")[-1]["params"]
    assert final["ts"] == ts and "Best fits" in final["text"] and final["blocks"][0]["type"] == "markdown"
    assert final["blocks"][1:] == [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "3 source(s), llm=False"}]}]


def test_no_model_posts_the_extractive_answer_once(sample_service: Any, client: WebClient, slack_api: SlackStandIn) -> None:
    ts = post(client, answer_events(sample_service, None))
    posted, = slack_api.of("chat.postMessage")
    assert posted["params"]["thread_ts"] == THREAD and "Best fits" in posted["params"]["text"]
    assert reply(slack_api, ts)["text"] == posted["params"]["text"]
    assert not slack_api.of("chat.startStream") and not slack_api.of("chat.update")


def test_streamed_text_is_scrubbed_of_emails_and_phone_numbers(client: WebClient, slack_api: SlackStandIn) -> None:
    deltas = ["Call", " +1 415", " 555", " 0100", " or mail", " jane.doe@", "example.com", " today", " [1]."]
    answer = Answer(question="q", text="".join(deltas).strip(), answered=True, confidence=1.0, used_llm=True)
    ts = post(client, [*deltas, answer])
    text = reply(slack_api, ts)["text"]
    assert "Call" in text and "today" in text and "[redacted]" in text
    assert not re.search(r"\d{3}|@", text), text


def test_the_slack_stand_in_refuses_misused_streams(client: WebClient, slack_api: SlackStandIn) -> None:
    def error(call: Any) -> str:
        with pytest.raises(SlackApiError) as refused:
            call()
        return str(refused.value.response["error"])

    assert error(lambda: client.api_call("chat.startStream", json={"channel": CHANNEL})) == "invalid_arguments"
    assert error(lambda: client.chat_appendStream(channel=CHANNEL, ts="1.2", markdown_text="x")) == "message_not_found"
    ts = client.chat_startStream(channel=CHANNEL, thread_ts=THREAD, markdown_text="Hel")["ts"]
    assert error(lambda: client.chat_appendStream(channel=CHANNEL, ts=ts)) == "invalid_arguments"
    client.chat_appendStream(channel=CHANNEL, ts=ts, markdown_text="lo")
    client.chat_stopStream(channel=CHANNEL, ts=ts, markdown_text="!", blocks=[{"type": "divider"}])
    assert error(lambda: client.chat_appendStream(channel=CHANNEL, ts=ts, markdown_text="more")) == "message_not_in_streaming_state"
    assert error(lambda: client.chat_stopStream(channel=CHANNEL, ts=ts)) == "message_not_in_streaming_state"
    message = reply(slack_api, ts)
    assert message["text"] == "Hello!" and message["blocks"] == [{"type": "divider"}] and message["thread_ts"] == THREAD


def test_default_blocks_without_sources_or_note_are_empty() -> None:
    assert source_blocks(Answer(question="q", text="t", answered=False, confidence=0.0)) == []
