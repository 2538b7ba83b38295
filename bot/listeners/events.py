"""Events: mentions, DMs, thread follow-ups, App Home. Retries and duplicate deliveries
are dropped by event id, stored, so no second answer even across processes."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext

from bot.conversation import answer_message, is_followup
from bot.home import publish_home
from bot.runtime import BotRuntime
from storage.slack_state import claim_event

log = logging.getLogger(__name__)


def register(app: App, runtime: BotRuntime) -> None:
    def first_delivery(body: dict[str, Any]) -> bool:
        event_id = body.get("event_id")
        if not event_id:
            return True
        with runtime.session() as session:
            return claim_event(session, event_id)

    @app.event("app_mention")
    def on_mention(body: dict[str, Any], event: dict[str, Any]) -> None:
        if first_delivery(body):
            answer_message(runtime, event.get("text", ""), channel=event["channel"], user=event.get("user", ""),
                           thread_ts=event.get("thread_ts") or event["ts"])

    @app.event("message")
    def on_message(body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
        if event.get("subtype") or event.get("bot_id"):
            return
        is_dm = event.get("channel_type") == "im"
        if not is_dm and not is_followup(runtime, event, context.bot_user_id):
            return
        if first_delivery(body):
            answer_message(runtime, event.get("text", ""), channel=event["channel"], user=event.get("user", ""),
                           thread_ts=event.get("thread_ts") or event["ts"])

    @app.event("app_home_opened")
    def on_home(body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home" and first_delivery(body):
            publish_home(runtime, event["user"])
