"""Mentions, DMs and thread follow-ups: route the text to a skill, keep the thread's
context (stage, persona, account) so a follow-up needs no repetition."""

from __future__ import annotations

import logging
from typing import Any

from bot.blocks import render_clarify, render_error
from bot.dispatch import run_skill
from bot.posting import post
from bot.runtime import BotRuntime, new_error_id
from knowledge.text import normalize
from skills.routing import Clarify, route
from storage.slack_state import fetch_thread_context, save_thread_context

log = logging.getLogger(__name__)


def answer_message(runtime: BotRuntime, text: str, *, channel: str, user: str, thread_ts: str) -> None:
    """Answer `text` in the thread, publicly (a mention or DM is a conversation)."""
    try:
        with runtime.work:
            _answer(runtime, text, channel=channel, user=user, thread_ts=thread_ts)
    except Exception:
        error_id = new_error_id()
        log.exception("answering a message failed (error id %s)", error_id)
        post(runtime.client, render_error("Something went wrong on our side.", error_id), channel=channel, thread_ts=thread_ts)


def _answer(runtime: BotRuntime, text: str, *, channel: str, user: str, thread_ts: str) -> None:
    decision = route(text)
    if isinstance(decision, Clarify):
        options = [(o.reason, f"{o.skill}|{o.text}") for o in decision.options]
        post(runtime.client, render_clarify(decision.question, options), channel=channel, thread_ts=thread_ts)
        return
    values: dict[str, Any] = {}
    if decision.skill == "ask":
        values = {"question": decision.text or normalize(text), **_context_for(runtime, decision.text, channel, thread_ts)}
    outcome = run_skill(runtime, decision.skill, "" if decision.skill == "ask" else decision.text, channel=channel, user=user, **values)
    post(runtime.client, outcome.message, channel=channel, thread_ts=thread_ts)
    _remember(runtime, outcome.result, channel, thread_ts)


def _context_for(runtime: BotRuntime, text: str, channel: str, thread_ts: str) -> dict[str, Any]:
    """Stage and persona from the thread, unless the new message names its own."""
    with runtime.session() as session:
        context = fetch_thread_context(session, channel, thread_ts)
    if context is None:
        return {}
    detection = runtime.knowledge.live.current().retriever.detector.detect(normalize(text))
    values: dict[str, Any] = {}
    if context.stage_id and not detection.stage_id:
        values["stage"] = context.stage_id
    if context.persona_id and not detection.persona_id:
        values["persona"] = context.persona_id
    return values


def _remember(runtime: BotRuntime, result: Any, channel: str, thread_ts: str) -> None:
    stage_id = getattr(result, "stage_id", None)
    persona_id = getattr(result, "persona_id", None)
    account = getattr(result, "name", None) if type(result).__name__ == "AccountReadiness" else None
    with runtime.session() as session:
        save_thread_context(session, channel, thread_ts, stage_id=stage_id, persona_id=persona_id, account=account)


def is_followup(runtime: BotRuntime, event: dict[str, Any], bot_user_id: str | None) -> bool:
    """A plain reply in a thread the bot is part of (mentions are handled as mentions)."""
    thread_ts = event.get("thread_ts")
    if not thread_ts or (bot_user_id and f"<@{bot_user_id}" in (event.get("text") or "")):
        return False
    with runtime.session() as session:
        return fetch_thread_context(session, event["channel"], thread_ts) is not None
