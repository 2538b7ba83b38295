"""`/journey <sub-command> ...`: acknowledged at once with a progress note, answered
right after (Bolt sends the HTTP reply when ack() is called; the rest runs in its pool)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from bot.blocks import render_clarify, render_error, render_help, render_progress
from bot.channel_config import handle_config
from bot.conversation import clarify_options, understand
from bot.dispatch import Outcome, run_skill
from bot.posting import post
from bot.subscription_commands import handle_subscription
from bot.runtime import BotRuntime, new_error_id

log = logging.getLogger(__name__)
SCHEDULER_COMMANDS = frozenset({"subscribe", "unsubscribe", "subscriptions"})


def split_command(text: str) -> tuple[str, str]:
    head, _, rest = text.strip().partition(" ")
    return head.lower(), rest.strip()


def register(app: App, runtime: BotRuntime) -> None:
    @app.command(runtime.settings.slack_command)
    def journey(ack: Ack, command: dict[str, Any]) -> None:
        name, rest = split_command(command.get("text") or "")
        channel, user = command["channel_id"], command["user_id"]
        if name in ("", "help"):
            ack(**_reply(render_help(runtime.registry)))
            return
        if name == "config":
            ack(**_reply(handle_config(runtime, rest, channel=channel, user=user)))
            return
        if name in SCHEDULER_COMMANDS:
            ack(**_reply(handle_subscription(runtime, name, rest, channel=channel, user=user)))
            return
        ack(**_reply(render_progress(name, "Working on it…")))
        try:
            with runtime.work:
                outcome = _run(runtime, name, rest, channel=channel, user=user)
            post(runtime.client, outcome.message, channel=channel, user=user, ephemeral=outcome.ephemeral)
        except Exception:
            error_id = new_error_id()
            log.exception("/journey %s failed (error id %s)", name, error_id)
            post(runtime.client, render_error("Something went wrong on our side.", error_id), channel=channel, user=user, ephemeral=True)


def _run(runtime: BotRuntime, name: str, rest: str, *, channel: str, user: str) -> Any:
    if name == "stage":
        return run_skill(runtime, "ask", "", channel=channel, user=user, question=f"What does the {rest} stage mean?", stage=rest)
    if name == "content":
        stage, _, persona = rest.partition("--persona")
        return run_skill(runtime, "ask", "", channel=channel, user=user, question=f"Which content fits {stage.strip()}?",
                         stage=stage.strip(), persona=persona.strip() or None)
    if name in runtime.registry.skills:
        return run_skill(runtime, name, rest, channel=channel, user=user)
    return _free_text(runtime, f"{name} {rest}".strip(), channel=channel, user=user)


def _free_text(runtime: BotRuntime, text: str, *, channel: str, user: str) -> Any:
    """Plain words after `/journey`: understood as a mention is, asked back when unsure."""
    result = understand(runtime, text)
    if result.clarify is not None or result.skill is None:
        question = result.clarify.question if result.clarify else "What would you like me to do?"
        return Outcome(render_clarify(question, clarify_options(runtime, result) if result.clarify else []))
    return run_skill(runtime, result.skill, "", channel=channel, user=user, **result.arguments)


def _reply(message: Any) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": message.text, "blocks": message.payload_blocks()}
