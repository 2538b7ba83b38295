"""`/journey <sub-command> ...` after the ack: which skill, with what, answered where the
command was typed (through its response_url, so also where the bot is not a member)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.blocks import render_clarify
from bot.conversation import clarify_options, understand
from bot.dispatch import Outcome, run_skill
from bot.replies import ReplyTo
from bot.runtime import BotRuntime


@dataclass(frozen=True)
class SubCommand:
    """A `/journey` sub-command that is not a skill: declared once, for help and dispatch."""

    name: str
    usage: str
    help: str
    example: str = ""
    immediate: bool = False  # answered in the ack itself: quick, nothing for a queue to hold


SUBCOMMANDS: tuple[SubCommand, ...] = (
    SubCommand("stage", "<stage>", "What a journey stage means: goal, exit criteria, what buyers ask.", "stage consideration"),
    SubCommand("content", "<stage> [--persona <persona>]", "Which content fits a stage, and a stakeholder.",
               "content decision --persona finance"),
    SubCommand("config", "[ephemeral on|off | crm on|off | skills ask,gaps,…|all]",
               "This channel's settings; admins change them.", "config", immediate=True),
    SubCommand("subscribe", "digest|churn|gaps [daily|weekly <day>|monthly <1-28>] [HH:MM] [Area/City] [filters]",
               "Post a digest, churn alerts or the gap audit in this channel on a schedule.",
               "subscribe digest weekly mon 09:00 Europe/Berlin", immediate=True),
    SubCommand("unsubscribe", "<id>", "Stop a subscription of this channel.", "unsubscribe 3", immediate=True),
    SubCommand("subscriptions", "", "This channel's subscriptions.", "subscriptions", immediate=True),
    SubCommand("help", "", "This list.", immediate=True),
)
IMMEDIATE = frozenset({"", *(c.name for c in SUBCOMMANDS if c.immediate)})


def split_command(text: str) -> tuple[str, str]:
    head, _, rest = text.strip().partition(" ")
    return head.lower(), rest.strip()


def answer_command(runtime: BotRuntime, text: str, to: ReplyTo) -> Outcome:
    name, rest = split_command(text)
    channel, user = to.channel, to.user
    if name == "stage":
        return run_skill(runtime, "ask", "", channel=channel, user=user, question=f"What does the {rest} stage mean?", stage=rest)
    if name == "content":
        stage, _, persona = rest.partition("--persona")
        return run_skill(runtime, "ask", "", channel=channel, user=user, question=f"Which content fits {stage.strip()}?",
                         stage=stage.strip(), persona=persona.strip() or None)
    if name in runtime.registry.skills:
        return run_skill(runtime, name, rest, channel=channel, user=user)
    return _free_text(runtime, f"{name} {rest}".strip(), channel=channel, user=user)


def progress_label(runtime: BotRuntime, text: str) -> str:
    """What the progress note calls the work: a sub-command's name, else "your question"."""
    name, _ = split_command(text)
    return name if name in runtime.registry.skills or name in ("stage", "content") else "your question"


def _free_text(runtime: BotRuntime, text: str, *, channel: str, user: str) -> Outcome:
    """Plain words after `/journey`: understood as a mention is, asked back when unsure."""
    result = understand(runtime, text)
    if result.clarify is not None or result.skill is None:
        question = result.clarify.question if result.clarify else "What would you like me to do?"
        return Outcome(render_clarify(question, clarify_options(runtime, result) if result.clarify else []))
    return run_skill(runtime, result.skill, "", channel=channel, user=user, **result.arguments)
