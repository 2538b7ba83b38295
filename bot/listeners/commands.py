"""`/journey ...`: quick sub-commands are answered in the ack; everything else is acked
with a progress note and queued, answered by a worker through the command's response_url."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from slack_bolt import Ack, App

from bot.blocks import render_help, render_progress
from bot.channel_config import handle_config
from bot.commands import IMMEDIATE, SUBCOMMANDS, progress_label, split_command
from bot.jobs import Job
from bot.message import SlackMessage
from bot.replies import ReplyTo
from bot.runtime import BotRuntime
from bot.subscription_commands import handle_subscription
from bot.work_queue import WorkQueue


def register(app: App, runtime: BotRuntime, queue: WorkQueue) -> None:
    def journey(ack: Ack, command: dict[str, Any]) -> None:
        text = command.get("text") or ""
        name, rest = split_command(text)
        channel, user = command["channel_id"], command["user_id"]
        if name in IMMEDIATE:
            ack(**_reply(_immediate(runtime, name, rest, channel=channel, user=user)))
            return
        to = ReplyTo(channel, user, response_url=command.get("response_url"))
        queue.enqueue(Job("command", to, text=text))
        ack(**_progress(progress_label(runtime, text)))

    app.command(runtime.settings.slack_command)(journey)


def _immediate(runtime: BotRuntime, name: str, rest: str, *, channel: str, user: str) -> SlackMessage:
    if name == "config":
        return handle_config(runtime, rest, channel=channel, user=user)
    if name in ("subscribe", "unsubscribe", "subscriptions"):
        return handle_subscription(runtime, name, rest, channel=channel, user=user)
    return render_help(runtime.registry, SUBCOMMANDS)


@lru_cache(maxsize=128)
def _progress(label: str) -> dict[str, Any]:
    """The ack's progress note, built once per label (a skill's name or "your question"):
    building and validating typed blocks was a third of the ack's own CPU in a burst.
    Callers only read it."""
    return _reply(render_progress(label, "Working on it…"))


def _reply(message: SlackMessage) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": message.text, "blocks": message.payload_blocks()}
