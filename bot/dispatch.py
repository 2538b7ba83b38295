"""From what a Slack user typed to a rendered message: access check, skill, rendering.

Every failure becomes a short message (with an error id when it is ours); details go to
the log, never to the channel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.blocks import render_error, render_refusal, render_result
from bot.message import SlackMessage
from bot.runtime import BotRuntime, new_error_id
from knowledge.catalog import UnknownReference
from skills.crm.errors import CrmError
from skills.registry import SkillInputError, SkillResult
from storage.slack_state import fetch_channel_config

log = logging.getLogger(__name__)


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
    try:
        result = runtime.registry.dispatch(runtime.context(channel, user), skill_name, text, **values)
    except (SkillInputError, UnknownReference) as exc:
        return Outcome(render_error(str(exc)))
    except CrmError as exc:
        error_id = new_error_id()
        log.warning("CRM error in %s (error id %s): %s", skill_name, error_id, exc)
        return Outcome(render_error("The CRM did not answer; nothing partial was used. Try again in a minute.", error_id))
    except Exception:
        error_id = new_error_id()
        log.exception("skill %s failed (error id %s)", skill_name, error_id)
        return Outcome(render_error("Something went wrong on our side.", error_id))
    log_id = getattr(result, "log_id", None)
    ephemeral = config.ephemeral and not public
    message = render_result(skill_name, result, log_id=log_id, ephemeral=ephemeral, offset=offset)
    return Outcome(message, result, ephemeral)
