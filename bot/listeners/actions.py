"""Buttons: feedback thumbs (stored on the question log), share to channel, pick one of
several candidates, show more."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from slack_bolt import Ack, App

from bot import ids
from bot.blocks import render_error
from bot.dispatch import run_skill
from bot.posting import post
from bot.runtime import BotRuntime, new_error_id
from storage.churn_ledger import record_churn_response
from storage.question_log import fetch_question, set_feedback

log = logging.getLogger(__name__)
SNOOZE_DAYS = 7


def _where(body: dict[str, Any]) -> tuple[str, str, str | None]:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")
    user = (body.get("user") or {}).get("id", "")
    message = body.get("message") or {}
    return channel, user, message.get("thread_ts") or message.get("ts")


def register(app: App, runtime: BotRuntime) -> None:
    def guarded(handler: Any) -> Any:
        def run(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
            ack()
            channel, user, thread_ts = _where(body)
            try:
                handler(action.get("value") or "", channel, user, thread_ts)
            except Exception:
                error_id = new_error_id()
                log.exception("action %s failed (error id %s)", action.get("action_id"), error_id)
                post(runtime.client, render_error("Something went wrong on our side.", error_id),
                     channel=channel, user=user, ephemeral=True)

        return run

    def feedback(value: str, channel: str, user: str, thread_ts: str | None, vote: int) -> None:
        with runtime.session() as session:
            entry = set_feedback(session, int(value), vote) if value.isdigit() else None
        note = "Thanks, noted." if entry else "That answer is no longer on record."
        runtime.client.chat_postEphemeral(channel=channel, user=user, text=note, thread_ts=thread_ts)

    def share(value: str, channel: str, user: str, thread_ts: str | None) -> None:
        """Post an ephemeral answer to the channel: re-run it (results are reproducible)."""
        skill, _, ref = value.partition("|")
        if skill == "ask":
            question = ref[2:] if ref.startswith("q:") else _logged_question(ref)
            if not question:
                post(runtime.client, render_error("That answer is no longer on record."), channel=channel, user=user, ephemeral=True)
                return
            outcome = run_skill(runtime, "ask", "", channel=channel, user=user, question=question)
        else:
            outcome = run_skill(runtime, skill, ref, channel=channel, user=user)
        post(runtime.client, outcome.message, channel=channel, thread_ts=thread_ts)

    def _logged_question(ref: str) -> str | None:
        if not ref.isdigit():
            return None
        with runtime.session() as session:
            entry = fetch_question(session, int(ref))
            return entry.question if entry else None

    def show_more(value: str, channel: str, user: str, thread_ts: str | None) -> None:
        skill, _, rest = value.partition("|")
        offset, _, ref = rest.partition("|")
        outcome = run_skill(runtime, skill, ref, channel=channel, user=user, offset=int(offset) if offset.isdigit() else 0)
        post(runtime.client, outcome.message, channel=channel, user=user, ephemeral=True, thread_ts=thread_ts)

    def pick(value: str, channel: str, user: str, thread_ts: str | None) -> None:
        skill, _, text = value.partition("|")
        outcome = run_skill(runtime, skill, text, channel=channel, user=user)
        post(runtime.client, outcome.message, channel=channel, user=user, ephemeral=outcome.ephemeral, thread_ts=thread_ts)

    def churn_response(value: str, channel: str, user: str, thread_ts: str | None, response: str) -> None:
        company_id, _, rule = value.partition("|")
        until = runtime.context(channel, user).now + dt.timedelta(days=SNOOZE_DAYS) if response == "snooze" else None
        with runtime.session() as session:
            record_churn_response(session, company_id, rule, response, user=user, until=until)  # type: ignore[arg-type]
        note = f"Snoozed for {SNOOZE_DAYS} days by <@{user}>." if until else f"Acknowledged by <@{user}>."
        runtime.client.chat_postEphemeral(channel=channel, user=user, text=note, thread_ts=thread_ts)

    app.action(ids.CHURN_ACK)(guarded(lambda v, c, u, t: churn_response(v, c, u, t, "ack")))
    app.action(ids.CHURN_SNOOZE)(guarded(lambda v, c, u, t: churn_response(v, c, u, t, "snooze")))
    app.action(ids.FEEDBACK_UP)(guarded(lambda v, c, u, t: feedback(v, c, u, t, 1)))
    app.action(ids.FEEDBACK_DOWN)(guarded(lambda v, c, u, t: feedback(v, c, u, t, -1)))
    app.action(ids.SHARE)(guarded(share))
    app.action(ids.PICK_CHOICE)(guarded(pick))
    app.action(ids.SHOW_MORE)(guarded(show_more))
