""""Sent it" per asset: the button (also for the nudge DM: one builder, one action id),
the mark that replaces it once clicked, and the one-line replies to the clicker."""

from __future__ import annotations

import datetime as dt
from typing import Any

from slack_sdk.models.blocks import ButtonElement, SectionBlock

from bot import ids
from bot.blocks.common import button, escape, finish, link, section
from bot.button_values import SentRef
from bot.message import SlackMessage
from skills.sent_it import SentOutcome

SENT_IT_TEXT = "Sent it"


def sent_it_button(deal_id: str, stage_id: str, asset_id: str, entered_at: dt.datetime | None = None) -> ButtonElement:
    """The button recording that `asset_id` went out on the deal at its stage entry."""
    entered = None if entered_at is None else int(entered_at.timestamp() * 1000)
    return button(SENT_IT_TEXT, ids.SENT_IT, SentRef(deal_id, stage_id, asset_id, entered).encode())


def asset_line(deal_id: str, stage_id: str, entered_at: dt.datetime | None, asset_id: str, title: str, url: str,
               why: str) -> SectionBlock:
    """One asset as its own section with its "Sent it" button beside it."""
    return section(f"→ {link(url, title)} — {escape(why)}",
                   accessory=sent_it_button(deal_id, stage_id, asset_id, entered_at))


def sent_mark(user: str) -> str:
    return f"Sent ✓ by <@{user}>"


def mark_sent(blocks: list[dict[str, Any]], value: str, user: str) -> list[dict[str, Any]]:
    """The message's blocks with each "Sent it" button for `value` replaced by who sent it."""
    out: list[dict[str, Any]] = []
    for block in blocks:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") == ids.SENT_IT and accessory.get("value") == value:
            block = {k: v for k, v in block.items() if k != "accessory"}
            text = dict(block.get("text") or {"type": "mrkdwn", "text": ""})
            text["text"] = f"{text.get('text', '')}  _{sent_mark(user)}_".strip()
            block["text"] = text
        out.append(block)
    return out


def render_sent(outcome: SentOutcome) -> SlackMessage:
    """One line for the clicker: recorded (or already), and any note problem."""
    title = escape(outcome.asset_title)
    if not outcome.new:
        line = f"“{title}” was already recorded as sent on this deal by <@{outcome.sent_by}>."
    else:
        line = f"Recorded: “{title}” sent ✓ by <@{outcome.sent_by}>."
        if outcome.note == "written":
            line += " Logged as a note on the HubSpot deal."
    if outcome.note_problem:
        line += f" {escape(outcome.note_problem)}"
    return finish([line], [section(line)])
