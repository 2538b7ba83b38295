"""From what a Slack user typed to a rendered message: access check, skill, rendering.

The skill call itself becomes an outcome in `skills.outcome`; this module only checks
access and renders the outcome. Details of failures go to the log, never to the channel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement

from bot import ids
from bot.blocks import render_error, render_refusal, render_result
from bot.button_values import MorePage, RunRef, split_stored, stored_ref
from bot.message import SlackMessage
from bot.runtime import BotRuntime
from skills import outcome as outcomes
from skills.registry import SkillInputError, SkillResult
from storage.result_store import fetch_result, save_result
from storage.slack_state import fetch_channel_config

log = logging.getLogger(__name__)
CRM_DOWN = "The CRM did not answer; nothing partial was used. Try again in a minute."
OUR_FAULT = "Something went wrong on our side."


@dataclass
class Outcome:
    message: SlackMessage
    result: SkillResult | None = None
    ephemeral: bool = True


def run_skill(
    runtime: BotRuntime, skill_name: str, text: str, *, channel: str, user: str, offset: int = 0,
    public: bool = False, **values: Any
) -> Outcome:
    """`public` renders for everyone in the channel (a shared answer), whatever the
    channel's default."""
    with runtime.session() as session:
        config = fetch_channel_config(session, channel)
    try:
        skill = runtime.registry.get(skill_name)
    except SkillInputError as exc:
        return Outcome(render_error(str(exc)))
    decision = runtime.access.check(skill, config, user)
    if not decision.allowed:
        return Outcome(render_refusal(skill.name, f"{decision.reason}. {runtime.settings.slack_access_help}"))
    ephemeral = config.ephemeral and not public
    match outcomes.run_skill(runtime.registry, runtime.context(channel, user), skill_name, text, **values):
        case outcomes.Done(result):
            log_id = getattr(result, "log_id", None)
            message = render_result(skill_name, result, log_id=log_id, ephemeral=ephemeral, offset=offset)
            _keep_for_buttons(runtime, skill_name, result, message, channel)
            if message.files:
                runtime.prune_reports()
            return Outcome(message, result, ephemeral)
        case outcomes.UserError(message_text):
            return Outcome(render_error(message_text))
        case outcomes.CrmUnavailable(_, error_id):
            return Outcome(render_error(CRM_DOWN, error_id))
        case outcomes.Misconfigured(problem, error_id, _):  # the operator's to fix: the reason goes to the log
            log.error("%s cannot run (error id %s): %s", skill_name, error_id, problem)
            return Outcome(render_error(OUR_FAULT, error_id))
        case outcomes.Bug(error_id, _):
            return Outcome(render_error(OUR_FAULT, error_id))
    raise AssertionError("unreachable")


def _keep_for_buttons(runtime: BotRuntime, skill_name: str, result: SkillResult, message: SlackMessage,
                      channel: str, result_id: int | None = None) -> None:
    """A result with *Show more* or *Share* is kept (once: a page of a kept run points at
    the same row), and the buttons point at it: paging and sharing then show this run."""
    buttons = [e for b in message.blocks if isinstance(b, ActionsBlock) for e in b.elements
               if isinstance(e, ButtonElement) and e.action_id in (ids.SHARE, ids.SHOW_MORE) and e.value]
    if not buttons:
        return
    if result_id is None:
        with runtime.session() as session:
            result_id = save_result(session, skill_name, result, channel_id=channel)
    for button in buttons:
        assert button.value is not None
        if button.action_id == ids.SHARE:
            shared = RunRef.decode(button.value)
            button.value = RunRef(shared.skill, stored_ref(result_id, shared.ref)).encode()
        else:
            page = MorePage.decode(button.value)
            button.value = MorePage(page.skill, page.offset, stored_ref(result_id, page.ref)).encode()


def render_kept(runtime: BotRuntime, skill_name: str, ref: str, *, channel: str, offset: int = 0,
                public: bool = False) -> SlackMessage | None:
    """The kept result `ref` names, rendered again (a page, or for the channel); None when
    the ref names none or it expired."""
    result_id, _ = split_stored(ref)
    if result_id is None:
        return None
    with runtime.session() as session:
        result = fetch_result(session, result_id, skill_name, channel_id=channel)
    if result is None:
        return None
    message = render_result(skill_name, result, log_id=getattr(result, "log_id", None), ephemeral=not public, offset=offset)
    _keep_for_buttons(runtime, skill_name, result, message, channel, result_id)
    return message
