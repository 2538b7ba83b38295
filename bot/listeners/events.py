"""Events: mentions, DMs, thread follow-ups and App Home (all queued: the Home reads the CRM).
Retries and duplicate deliveries never get this far (bot.middleware claims event ids)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext

from bot.conversation import is_followup
from bot.jobs import Job
from bot.replies import ReplyTo
from bot.runtime import BotRuntime
from bot.work_queue import WorkQueue
from storage.slack_state import release_event


def register(app: App, runtime: BotRuntime, queue: WorkQueue) -> None:
    def enqueue(body: dict[str, Any], event: dict[str, Any]) -> None:
        # A DM is a conversation already: answered in line unless the user wrote in a thread.
        direct = event.get("channel_type") == "im"
        to = ReplyTo(event["channel"], event.get("user", ""), event.get("thread_ts") or (None if direct else event["ts"]))
        event_id = body.get("event_id")
        try:
            queue.enqueue(Job("message", to, text=event.get("text", ""), event_id=event_id,
                              message={"ts": event["ts"], "team": body.get("team_id")}))
        except Exception:
            if event_id:  # not queued: let Slack's retry through
                with runtime.session() as session:
                    release_event(session, event_id)
            raise

    def on_mention(body: dict[str, Any], event: dict[str, Any]) -> None:
        enqueue(body, event)

    def on_message(body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
        if event.get("subtype") or event.get("bot_id"):
            return
        if event.get("channel_type") == "im" or is_followup(runtime, event, context.bot_user_id):
            enqueue(body, event)

    def on_home(body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        user, event_id = event["user"], body.get("event_id")
        try:
            queue.enqueue(Job("home", ReplyTo(event.get("channel") or user, user), event_id=event_id))
        except Exception:
            if event_id:  # not queued: let Slack's retry through
                with runtime.session() as session:
                    release_event(session, event_id)
            raise

    app.event("app_mention")(on_mention)
    app.event("message")(on_message)
    app.event("app_home_opened")(on_home)
