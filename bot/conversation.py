"""Mentions, DMs and thread follow-ups: understand the text (skill, names, stage,
persona), keep the thread's context (account, deal, stage, persona) so a follow-up needs
no repetition, and ask back with buttons rather than guess."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bot.blocks import render_clarify
from bot.blocks.ask import streamed_closing
from bot.button_values import RunRef
from bot.dispatch import run_skill
from bot.message import SlackMessage
from bot.posting import post
from bot.replies import ReplyTo, attach
from bot.runtime import BotRuntime
from bot.streaming import stream_to_thread
from knowledge.answers import Answer
from skills.ask import stream_ask
from skills.registry import ThreadFacts
from skills.understanding_result import ThreadMemory, Understanding
from storage.slack_state import fetch_thread_context, save_thread_context

if TYPE_CHECKING:
    from knowledge.llm_stream import AnswerEvent

log = logging.getLogger(__name__)
ANSWER_EVENT = "journeybot_answer"


def answer_message(runtime: BotRuntime, text: str, to: ReplyTo, *, event_id: str | None = None, retry: bool = False,
                   since: str | None = None, team_id: str | None = None) -> None:
    """Answer `text` in the thread (or in line, in a DM), publicly: a mention or DM is a
    conversation. On a retried job (its worker died), first look for the answer it may
    already have posted after `since` (the message's ts): answers carry their event id as
    message metadata."""
    if retry and event_id and _already_answered(runtime, to, event_id, since):
        log.info("event %s was answered before its worker stopped; not posting again", event_id)
        return
    metadata = {"event_type": ANSWER_EVENT, "event_payload": {"event_id": event_id}} if event_id else None
    _answer(runtime, text, to, metadata, team_id)


def understand(runtime: BotRuntime, text: str, memory: ThreadMemory | None = None) -> Understanding:
    today = runtime.context(None, None).now.date()
    return runtime.understander().understand(text, memory=memory, today=today)


def clarify_options(runtime: BotRuntime, result: Understanding) -> list[tuple[str, str]]:
    """(label, "skill|explicit arguments") per option: a button runs it exactly."""
    assert result.clarify is not None
    return [(o.label, RunRef(o.skill, runtime.registry.command_text(o.skill, o.arguments)).encode())
            for o in result.clarify.options]


def _answer(runtime: BotRuntime, text: str, to: ReplyTo, metadata: dict[str, Any] | None,
            team_id: str | None = None) -> None:
    channel, thread_ts = to.channel, to.thread_ts or ""
    memory = _memory(runtime, channel, thread_ts)
    result = understand(runtime, text, memory)
    if result.clarify is not None or result.skill is None:
        question = result.clarify.question if result.clarify else "What would you like me to do?"
        post(runtime.client, render_clarify(question, clarify_options(runtime, result) if result.clarify else []),
             channel=channel, thread_ts=to.thread_ts, metadata=metadata)
        return
    values: dict[str, Any] = dict(result.arguments)
    if result.skill == "ask":
        values.update(_map_context(runtime, result, memory))
        if runtime.knowledge.asker.chat is not None and to.thread_ts:
            _stream_ask(runtime, values, to, metadata, team_id)
            return
    outcome = run_skill(runtime, result.skill, "", channel=channel, user=to.user, **values)
    _remember(runtime, outcome.result, channel, thread_ts)  # before posting: a quick follow-up finds it
    post(runtime.client, SlackMessage(outcome.message.text, outcome.message.blocks), channel=channel,
         thread_ts=to.thread_ts, metadata=metadata)
    if outcome.message.files:
        attach(runtime.client, outcome.message.files, to, private=False)


def _stream_ask(runtime: BotRuntime, values: dict[str, Any], to: ReplyTo, metadata: dict[str, Any] | None,
                team_id: str | None) -> None:
    """With an LLM, the answer appears in the thread as the model writes it."""
    assert to.thread_ts is not None
    thread_ts = to.thread_ts

    def events() -> Iterator[AnswerEvent]:
        for event in stream_ask(runtime.context(to.channel, to.user), **values):
            if isinstance(event, Answer):  # before the reply closes: a quick follow-up finds it
                _remember(runtime, event, to.channel, thread_ts)
            yield event

    stream_to_thread(runtime.client, events(), channel=to.channel, thread_ts=thread_ts, team_id=team_id,
                     user_id=to.user, render_final=streamed_closing, metadata=metadata)


def _already_answered(runtime: BotRuntime, to: ReplyTo, event_id: str, since: str | None) -> bool:
    if to.thread_ts:
        page = runtime.client.conversations_replies(channel=to.channel, ts=to.thread_ts, include_all_metadata=True, limit=200)
    elif since:
        page = runtime.client.conversations_history(channel=to.channel, oldest=since, include_all_metadata=True, limit=200)
    else:
        return False
    return any((m.get("metadata") or {}).get("event_payload", {}).get("event_id") == event_id
               for m in page.get("messages") or [])


def _memory(runtime: BotRuntime, channel: str, thread_ts: str) -> ThreadMemory | None:
    with runtime.session() as session:
        context = fetch_thread_context(session, channel, thread_ts)
        if context is None:
            return None
        return ThreadMemory(context.account, context.deal, context.stage_id, context.persona_id)


def _map_context(runtime: BotRuntime, result: Understanding, memory: ThreadMemory | None) -> dict[str, Any]:
    """Stage and persona from the thread, unless the new message names its own."""
    if memory is None:
        return {}
    detection = runtime.knowledge.live.current().retriever.detector.detect(result.text)
    values: dict[str, Any] = {}
    if memory.stage_id and not detection.stage_id:
        values["stage"] = memory.stage_id
    if memory.persona_id and not detection.persona_id:
        values["persona"] = memory.persona_id
    return values


def _remember(runtime: BotRuntime, result: Any, channel: str, thread_ts: str) -> None:
    facts = result.thread_facts() if isinstance(result, ThreadFacts) else {}
    with runtime.session() as session:
        save_thread_context(session, channel, thread_ts, **facts)


def is_followup(runtime: BotRuntime, event: dict[str, Any], bot_user_id: str | None) -> bool:
    """A plain reply in a thread the bot is part of (mentions are handled as mentions)."""
    thread_ts = event.get("thread_ts")
    if not thread_ts or (bot_user_id and f"<@{bot_user_id}" in (event.get("text") or "")):
        return False
    with runtime.session() as session:
        return fetch_thread_context(session, event["channel"], thread_ts) is not None
