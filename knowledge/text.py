"""Turning what people type in Slack into plain words: markup, links and emoji out."""

from __future__ import annotations

import re
import unicodedata

_SLACK_LINK_LABEL = re.compile(r"<(?:https?|mailto):[^|>]*\|([^>]*)>")
_SLACK_CHANNEL = re.compile(r"<#[A-Z0-9]+\|([^>]*)>")
_SLACK_TOKEN = re.compile(r"<[@#!][^>]*>")
_SLACK_BARE_LINK = re.compile(r"<(?:https?|mailto):[^>]*>")
_URL = re.compile(r"https?://\S+")
_EMOJI_CODE = re.compile(r":[a-z0-9_+\-]+:")
_FORMATTING = re.compile(r"(?<!\w)[*_~`]+|[*_~`]+(?!\w)")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def normalize(text: str) -> str:
    """Slack text -> plain text: mentions, links, emoji and formatting removed."""
    out = _SLACK_LINK_LABEL.sub(r"\1", text)
    out = _SLACK_CHANNEL.sub(r"\1", out)
    out = _SLACK_TOKEN.sub(" ", out)
    out = _SLACK_BARE_LINK.sub(" ", out)
    out = _URL.sub(" ", out)
    out = _EMOJI_CODE.sub(" ", out)
    out = "".join(ch for ch in out if not _is_emoji(ch))
    out = out.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    out = _FORMATTING.sub(" ", out)
    return _SPACES.sub(" ", out).strip()


def _is_emoji(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category == "So" or (category == "Cn" and ord(ch) > 0x2000) or ch in "\u200d\ufe0f"


# Short everyday words an acronym ("IT" / "it") or a piece of a title ("go" of
# "go-to-market") can collide with.
EVERYDAY_SHORT = frozenset({"it", "us", "am", "an", "or", "as", "at", "be", "do", "go", "he", "me", "my", "no",
                            "so", "to", "we"})


def words(text: str) -> list[str]:
    """Lower-case word tokens (apostrophes kept inside words)."""
    return _WORD.findall(text.lower())


def written_words(text: str) -> list[str]:
    """The same tokens as `words`, as they were written (case kept): "IT" is not "it"."""
    return [text[m.start() : m.end()] for m in _WORD.finditer(text.lower())]


def singular(phrase: str) -> str:
    """Each word without a plural "s" (not "ss"; words of four letters or more)."""
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in phrase.split())
