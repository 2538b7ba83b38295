"""Shared Block Kit helpers: escaping, links, Slack's size limits, list truncation and the
final privacy scrub. Every skill module builds blocks through these, so a limit or the
scrub is enforced in one place instead of six.

Button values are typed and encoded in one place: bot/button_values.py.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence
from pathlib import Path

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot import ids
from bot.button_values import MorePage, RunRef
from bot.message import MAX_BLOCKS, MAX_FALLBACK_CHARS, MAX_SECTION_CHARS, SlackMessage

COMMAND = "/journey"
MAX_HEADER_CHARS = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTIONS_ELEMENTS = 25
MAX_FIELDS = 10
MAX_FIELD_CHARS = 2000
MAX_CONTEXT_ELEMENTS = 10
ELLIPSIS = "…"

# Results never carry an email or phone (typed fields that cannot hold one); this is the
# last check, so it flags only what is really shaped like one: an address; an international
# number (+country code, groups split by single separators, 8-15 digits); a US-style number.
# Figures side by side in a table ("+0.2)     18", "12.5%", "$1,234") are none of these.
# The look-behinds start a match only where a run starts, so matching stays linear.
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
INTERNATIONAL = re.compile(r"(?<![\w+])\+[1-9]\d{0,2}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,5})){1,6}(?!\d|\.\d)")
NORTH_AMERICAN = re.compile(r"(?<![\w.+-])(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}(?!\w|\.\d)")
PHONE_DIGITS = range(8, 16)
REDACTED = "[redacted]"
_STRUCTURAL_KEYS = {"type", "action_id", "block_id", "style", "emoji", "verbatim"}


def scrub(text: str) -> str:
    """Remove anything shaped like an email address or phone number: results should never
    carry one, and a message is the last place to stop it reaching a channel."""
    if "@" in text:
        text = EMAIL.sub(REDACTED, text)
    if "+" in text:
        text = INTERNATIONAL.sub(_phone_or_figures, text)
    return NORTH_AMERICAN.sub(REDACTED, text)


def _phone_or_figures(match: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in match.group())
    return REDACTED if digits in PHONE_DIGITS else match.group()


def escape(text: str) -> str:
    """mrkdwn control characters; Slack asks for exactly these three to be escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, title: str) -> str:
    """`<url|title>` with the title escaped; a URL's own "|" or ">" would end the link early."""
    safe_url = url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C").replace(" ", "%20")
    return f"<{safe_url}|{escape(title.replace('|', '/'))}>"


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + ELLIPSIS


def plain(text: str, limit: int) -> PlainTextObject:
    return PlainTextObject(text=truncate(scrub(text), limit), emoji=True)


def mrkdwn(text: str, limit: int = MAX_SECTION_CHARS) -> MarkdownTextObject:
    return MarkdownTextObject(text=truncate(scrub(text), limit))


def header(text: str) -> HeaderBlock:
    return HeaderBlock(text=plain(text, MAX_HEADER_CHARS))


def section(text: str, *, fields: Sequence[str] = (), accessory: ButtonElement | None = None,
            block_id: str | None = None) -> SectionBlock:
    """One section; text beyond the limit is cut (use `sections` to keep all of it)."""
    return SectionBlock(
        text=mrkdwn(text) if text else None,
        fields=[mrkdwn(f, MAX_FIELD_CHARS) for f in fields[:MAX_FIELDS]] or None,
        accessory=accessory,
        block_id=block_id,
    )


def split_text(text: str, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """Chunks of at most `limit` chars, broken at line ends when possible, so a long
    answer becomes several sections rather than a cut one."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            chunks.append(line[:cut])
            line = line[cut:].lstrip()
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        chunks.append(current)
    return [c for c in chunks if c.strip()]


def sections(text: str) -> list[Block]:
    return [section(chunk) for chunk in split_text(scrub(text))]


def context(*texts: str) -> ContextBlock:
    return ContextBlock(elements=[mrkdwn(t, MAX_SECTION_CHARS) for t in texts[:MAX_CONTEXT_ELEMENTS] if t])


def divider() -> DividerBlock:
    return DividerBlock()


def button(text: str, action_id: str, value: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(
        text=plain(text, MAX_BUTTON_TEXT), action_id=action_id, value=value[:MAX_BUTTON_VALUE], style=style
    )


def actions(buttons: Sequence[ButtonElement], block_id: str | None = None) -> list[Block]:
    """Actions blocks of at most 25 buttons; only the first gets `block_id` (ids must be unique)."""
    out: list[Block] = []
    for start in range(0, len(buttons), MAX_ACTIONS_ELEMENTS):
        chunk = list(buttons[start : start + MAX_ACTIONS_ELEMENTS])
        out.append(ActionsBlock(elements=chunk, block_id=block_id if start == 0 else None))
    return out


def rerun_ref(*parts: tuple[str, str | None]) -> str:
    """Argument text that re-runs a skill: `--name value` for each given option, quoted."""
    return " ".join(f"--{name} {shlex.quote(value)}" for name, value in parts if value)


def ref_value(skill: str, ref: str) -> str:
    return RunRef(skill, ref).encode()


def more_value(skill: str, offset: int, ref: str) -> str:
    return MorePage(skill, offset, ref).encode()


def more_pointer(hidden: int, skill: str, what: str = "more") -> str:
    return f"{ELLIPSIS} {hidden} {what}: *Show more*, or all of them with `journeybot {skill} --json` on the command line"


def footer(skill: str, ref: str, *, ephemeral: bool, next_offset: int | None = None) -> list[Block]:
    """The result's buttons: *Show more* when a list was cut, *Share* when only the asker sees it."""
    buttons: list[ButtonElement] = []
    if next_offset is not None:
        buttons.append(button("Show more", ids.SHOW_MORE, more_value(skill, next_offset, ref)))
    if ephemeral:
        buttons.append(button("Share to channel", ids.SHARE, ref_value(skill, ref), style="primary"))
    return actions(buttons, ids.ACTIONS_BLOCK) if buttons else []


def fit_groups(groups: Sequence[Sequence[Block]], room: int) -> tuple[list[Block], int]:
    """Whole groups (one per list item) in order while they fit in `room` blocks; returns
    the blocks and how many groups made it, so the caller can point at the rest."""
    out: list[Block] = []
    used = 0
    for group in groups:
        if len(out) + len(group) > room:
            break
        out.extend(group)
        used += 1
    return out, used


def fallback(lines: Iterable[str]) -> str:
    """The notification text: plain, scrubbed, never empty, within Slack's limit."""
    text = "\n".join(line for line in lines if line).strip() or "journeybot"
    return truncate(scrub(text), MAX_FALLBACK_CHARS)


def _scrub_json(value: object, key: str = "") -> object:
    if isinstance(value, str):
        return value if key in _STRUCTURAL_KEYS else scrub(value)
    if isinstance(value, list):
        return [_scrub_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_json(v, k) for k, v in value.items()}
    return value


def finish(text_lines: Iterable[str], blocks: Sequence[Block], files: Sequence[Path] = ()) -> SlackMessage:
    """The message: blocks capped at 50 (the last kept is a pointer when cut) and every
    string in them scrubbed once more, as parsed-back typed blocks."""
    kept = list(blocks)
    if len(kept) > MAX_BLOCKS:
        kept = kept[: MAX_BLOCKS - 1] + [context(f"{ELLIPSIS} cut to Slack's {MAX_BLOCKS}-block limit")]
    clean: list[Block] = []
    for block in kept:
        parsed = Block.parse(_scrub_json(block.to_dict()))  # type: ignore[arg-type]
        if parsed is not None:
            clean.append(parsed)
    return SlackMessage(text=fallback(text_lines), blocks=clean, files=list(files))


def clarify(question: str, options: Sequence[tuple[str, str]]) -> SlackMessage:
    """A question back with one button per option (label, "skill|text"). Each button sits
    in its own section: Slack rejects a block whose buttons share an action_id."""
    blocks: list[Block] = [section(escape(question))]
    room = MAX_BLOCKS - 2
    for label, value in options[:room]:
        blocks.append(section(escape(label), accessory=button("Pick", ids.PICK_CHOICE, value)))
    if len(options) > room:
        blocks.append(context(f"{ELLIPSIS} {len(options) - room} more; type a more specific name."))
    return finish([question] + [f"{n}. {label}" for n, (label, _) in enumerate(options, 1)], blocks)
