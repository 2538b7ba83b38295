"""`nudges` as plain text: the settings in one line."""

from __future__ import annotations

from cli.text import text_for
from skills.nudges import NudgeSettings


@text_for(NudgeSettings)
def render(result: NudgeSettings) -> str:
    return result.line()
