"""`nudges` for Slack: the rep's nudge settings in one line, and what to type to change them."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.blocks.common import COMMAND, context, escape, finish, section
from bot.blocks.rendering import RenderOptions, renders
from bot.message import SlackMessage
from skills.nudges import NudgeSettings

CHANGE_HINT = f"Change them: `{COMMAND} nudges on|off`, `{COMMAND} nudges quiet 20-7`, `{COMMAND} nudges cap 3`."


def settings_blocks(result: NudgeSettings) -> list[Block]:
    """The line and the hint (App Home shows the same)."""
    return [section(("✅ " if result.changed else "🔔 ") + escape(result.line())), context(CHANGE_HINT)]


@renders(NudgeSettings)
def render(result: NudgeSettings, options: RenderOptions) -> SlackMessage:
    return finish([result.line()], settings_blocks(result))
