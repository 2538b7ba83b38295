"""Buttons: acked at once, the work queued (see bot.buttons for what each one does)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.buttons import action_ids, job_message
from bot.jobs import Job
from bot.replies import ReplyTo
from bot.runtime import BotRuntime
from bot.work_queue import WorkQueue


def where(body: dict[str, Any]) -> ReplyTo:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")
    user = (body.get("user") or {}).get("id", "")
    message = body.get("message") or {}
    return ReplyTo(channel, user, message.get("thread_ts") or message.get("ts"), body.get("response_url"))


def register(app: App, runtime: BotRuntime, queue: WorkQueue) -> None:
    def button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        queue.enqueue(Job("action", where(body), action_id=str(action.get("action_id")), value=action.get("value") or "",
                          message=job_message(body)))
        ack()

    for action_id in action_ids():
        app.action(action_id)(button)
