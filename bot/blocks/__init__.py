"""All Block Kit the bot sends, built in one place from slack_sdk's typed blocks: one
module per skill result plus the bot's own messages (errors, help, refusals, progress,
questions back, App Home). Listeners never build blocks themselves, so limits, ids and
the privacy scrub hold everywhere. Button value formats: see `bot.blocks.common`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Protocol

from slack_sdk.models.blocks import Block

from bot import ids
from bot.blocks import account, ask, churn, deal, gaps, influence, nudges, velocity  # noqa: F401 - they register their renderers
from bot.blocks.common import (
    COMMAND,
    clarify,
    context,
    divider,
    escape,
    finish,
    footer,
    header,
    section,
    truncate,
)
from bot.blocks.home import my_deals_blocks, nudge_blocks
from bot.blocks.rendering import RenderOptions, renderer_for
from bot.message import MAX_BLOCKS, SlackMessage
from knowledge.models import JourneyMap
from skills.my_deals import MyOpenDeals
from skills.nudges import NudgeSettings
from skills.registry import Registry

__all__ = ["render_clarify", "render_error", "render_help", "render_home", "render_note", "render_progress",
           "render_refusal", "render_result"]

RECENT_SHOWN = 10


class RecentQuestion(Protocol):
    """What App Home needs of a question-log row (storage.question_log.QuestionLogEntry fits)."""

    question: str
    answered: bool


def render_result(skill: str, result: object, *, log_id: int | None = None, ephemeral: bool = False,
                  offset: int = 0, mentions: Mapping[str, str] | None = None) -> SlackMessage:
    """Any skill's result as a message, by the renderer registered for its type (see
    bot.blocks.rendering.RenderOptions for the options); a result without one still answers."""
    renderer = renderer_for(result)
    if renderer is None:
        return _generic(skill, result, ephemeral)
    return renderer(result, RenderOptions(log_id=log_id, ephemeral=ephemeral, offset=offset, mentions=mentions))


def _generic(skill: str, result: object, ephemeral: bool) -> SlackMessage:
    """A skill without a renderer yet still answers: its to_dict() as JSON."""
    to_dict = getattr(result, "to_dict", None)
    data = to_dict() if callable(to_dict) else str(result)
    raw = truncate(json.dumps(data, indent=1, default=str), 2800 * 10)
    blocks: list[Block] = [header(f"{COMMAND} {skill}")]
    blocks += [section(f"```{escape(chunk)}```") for chunk in _chunks(raw, 2800)][: MAX_BLOCKS - 3]
    blocks += footer(skill, "", ephemeral=ephemeral)
    return finish([f"{skill}: {raw}"], blocks)


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def render_error(message: str, error_id: str | None = None) -> SlackMessage:
    """What went wrong in the user's terms; the id lets an admin find the log line."""
    blocks: list[Block] = [section(f"⚠️ {escape(message)}")]
    if error_id:
        blocks.append(context(f"Error id `{escape(error_id)}`: quote it when you report this."))
    return finish([f"Error: {message}" + (f" (error id {error_id})" if error_id else "")], blocks)


def render_note(text: str) -> SlackMessage:
    """A one-line reply (a thank-you, who acknowledged an alert)."""
    return finish([text], [section(text)])


def render_refusal(skill: str, how_to_get_access: str) -> SlackMessage:
    """A skill not allowed here (e.g. CRM data in a channel without access): say how to get it."""
    blocks: list[Block] = [section(f"🔒 `{COMMAND} {escape(skill)}` is not available here."),
                           context(escape(how_to_get_access))]
    return finish([f"{COMMAND} {skill} is not available here. {how_to_get_access}"], blocks)


def render_progress(skill: str, text: str) -> SlackMessage:
    """A one-line placeholder while a slow skill runs; the listener replaces it."""
    return finish([f"{skill}: {text}"], [context(f"⏳ *{escape(skill)}*: {escape(text)}")])


def render_clarify(question: str, options: list[tuple[str, str]]) -> SlackMessage:
    """A question back; each option is (label, "skill|text") and gets a PICK_CHOICE button."""
    return clarify(question, options)


class SubCommandHelp(Protocol):
    """What help needs of a non-skill sub-command (bot.commands.SubCommand fits)."""

    @property
    def name(self) -> str: ...

    @property
    def usage(self) -> str: ...

    @property
    def help(self) -> str: ...

    @property
    def example(self) -> str: ...


def render_help(registry: Registry, subcommands: Sequence[SubCommandHelp] = ()) -> SlackMessage:
    """Every sub-command: the skills with their options and examples (from the registry),
    then the bot's own sub-commands (from their one declaration); never hand-written."""
    blocks: list[Block] = [header("journeybot commands"),
                           context(f"Type `{COMMAND} <command>`, or mention the bot with a question.")]
    for skill in registry.skills.values():
        crm = " _(reads HubSpot)_" if skill.needs_crm else ""
        lines = [f"*`{COMMAND} {escape(skill.name)}`* — {escape(skill.help)}{crm}"]
        for arg in skill.args:
            name = f"<{arg.name}>" if arg.positional else f"--{arg.name}"
            choices = f" ({', '.join(arg.choices)})" if arg.choices else ""
            lines.append(f"• `{escape(name)}` {escape(arg.help)}{escape(choices)}")
        blocks.append(section("\n".join(lines)))
        if skill.examples:
            blocks.append(context("e.g. " + " · ".join(f"`{COMMAND} {escape(e)}`" for e in skill.examples)))
    if subcommands:
        lines = [f"*`{COMMAND} {escape(c.name)}{' ' + escape(c.usage) if c.usage else ''}`* — {escape(c.help)}"
                 + (f" e.g. `{COMMAND} {escape(c.example)}`" if c.example and c.example != c.name else "")
                 for c in subcommands]
        blocks.append(section("\n".join(lines)))
    text = [f"{COMMAND} commands: " + ", ".join([*registry.skills, *(c.name for c in subcommands)])]
    return finish(text, blocks[:MAX_BLOCKS])


def _coverage(journey_map: JourneyMap) -> dict[str, tuple[int, int]]:
    """Stage id -> (assets, questions some asset explicitly answers)."""
    answered = {q for a in journey_map.assets for q in a.answers}
    return {s.id: (sum(s.id in a.stages for a in journey_map.assets),
                   sum(q.id in answered for q in s.questions)) for s in journey_map.stages}


def render_home(journey_map: JourneyMap, recent_questions: Sequence[str | RecentQuestion],
                subscriptions: Sequence[tuple[str, str, str]], *, deals: MyOpenDeals | None = None,
                deals_note: str = "", nudge_settings: NudgeSettings | None = None) -> list[Block]:
    """App Home: the viewer's open deals (or `deals_note` saying why none are shown) and
    nudge settings when given, the map at a glance, the user's recent questions, and
    channel subscriptions as (channel id, id and kind, when)."""
    personal: list[Block] = []
    if deals is not None or deals_note:
        personal += [*my_deals_blocks(deals, deals_note), divider()]
    coverage = _coverage(journey_map)
    stages = []
    for s in sorted(journey_map.stages, key=lambda s: s.order):
        assets, answered = coverage[s.id]
        stages.append(f"*{s.order}. {escape(s.name)}* — target {s.target_days_in_stage:g} days · "
                      f"{assets} assets · {answered}/{len(s.questions)} buyer questions answered")
    blocks: list[Block] = [*personal, header(f"{journey_map.name} ({journey_map.version})"),
                           section("\n".join(stages), block_id=ids.HOME_BLOCK),
                           context(f"{len(journey_map.personas)} personas · {len(journey_map.assets)} assets · "
                                   f"{len(journey_map.touchpoints)} touchpoints")]
    blocks.append(divider())
    recent = []
    for q in recent_questions[:RECENT_SHOWN]:
        text, answered = (q, True) if isinstance(q, str) else (q.question, q.answered)
        recent.append(f"• {escape(truncate(text, 200))}" + ("" if answered else " _(not answered by the map)_"))
    blocks.append(section("*Your recent questions*\n" + ("\n".join(recent) or f"_None yet: try `{COMMAND} ask`._")))
    blocks.append(divider())
    subs = [f"• <#{escape(c)}> · {escape(kind)} · `{escape(when)}`" for c, kind, when in subscriptions[:20]]
    blocks.append(section("*Channel subscriptions*\n" + ("\n".join(subs) or "_None yet._")))
    if nudge_settings is not None:
        blocks += nudge_blocks(nudge_settings)
    return finish([journey_map.name], blocks).blocks
