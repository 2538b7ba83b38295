"""Natural-language routing for mentions and DMs: which skill a message asks for.

Deterministic patterns, no LLM: "how ready is Acme?" -> account, "what do I send for
the Globex deal?" -> deal, "where are our content gaps?" -> gaps, velocity and churn
phrasings, anything else -> ask. When a message fits two skills equally, the result is
a clarifying question, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.text import normalize


@dataclass(frozen=True)
class Route:
    skill: str
    text: str  # the argument text for the skill
    reason: str


@dataclass(frozen=True)
class Clarify:
    question: str
    options: tuple[Route, ...]


_NAME = r"(?P<name>[A-Za-z0-9][\w&.\-' ]{0,60}?)"
_END = r"\s*(?:account|company|inc\.?|ltd\.?)?\s*[?.!]*$"

ACCOUNT_PATTERNS = (
    re.compile(rf"^(?:how )?ready is {_NAME}{_END}", re.I),
    re.compile(rf"^how (?:engaged|warm|hot) is {_NAME}{_END}", re.I),
    re.compile(rf"^(?:account )?readiness (?:of|for) {_NAME}{_END}", re.I),
    re.compile(rf"^is {_NAME} ready(?: to buy)?{_END}", re.I),
    re.compile(rf"^(?:who (?:do we know|is engaged) at|buying committee (?:at|of|for)) {_NAME}{_END}", re.I),
    re.compile(rf"^(?:status of|check|look up|lookup) (?:the )?{_NAME} account\s*[?.!]*$", re.I),
)
DEAL_PATTERNS = (
    re.compile(r"^what (?:do|should) (?:i|we) send (?:for|on|to) (?:the )?(?P<name>.+?) deal\s*[?.!]*$", re.I),
    re.compile(r"^(?:content|assets|what to send) for (?:the )?(?P<name>.+?) deal\s*[?.!]*$", re.I),
    re.compile(r"^(?:the )?(?P<name>.+?) deal[:,]? what (?:do|should) (?:i|we) send\s*[?.!]*$", re.I),
    re.compile(r"^(?:help with|next steps? (?:for|on)) (?:the )?(?P<name>.+?) deal\s*[?.!]*$", re.I),
)
KEYWORD_ROUTES = (
    ("gaps", re.compile(r"\b(content gaps?|gap audit|gaps in (?:our )?content|content (?:are we |we're )?missing|missing content|where are (?:our|the) gaps)\b", re.I)),
    ("velocity", re.compile(r"\b(velocity|days in stage|stage conversion|conversion rates?|stalled deals?|win rate|cycle length|how fast (?:are )?deals)\b", re.I)),
    ("churn", re.compile(r"\b(churn|at[- ]risk (?:customers?|accounts?)|risk(?:y)? accounts?|who might (?:leave|churn))\b", re.I)),
)


def route(message: str) -> Route | Clarify:
    text = normalize(message)
    text = re.sub(r"^(?:hey|hi|hello|yo)[,!]?\s+", "", text, flags=re.I).strip()
    account = _first_name(ACCOUNT_PATTERNS, text)
    deal = _first_name(DEAL_PATTERNS, text)
    if account and deal:
        return Clarify(
            f"Do you want the readiness of the {account} account, or what to send for the {deal} deal?",
            (Route("account", account, "account readiness"), Route("deal", deal, "deal content")),
        )
    if account:
        return Route("account", account, "asks how ready an account is")
    if deal:
        return Route("deal", deal, "asks what to send for a deal")
    matched = [name for name, pattern in KEYWORD_ROUTES if pattern.search(text)]
    if len(matched) == 1:
        return Route(matched[0], "", f"mentions {matched[0]}")
    if len(matched) > 1:
        return Clarify(
            "I can run one of these: " + ", ".join(matched) + ". Which one?",
            tuple(Route(name, "", f"mentions {name}") for name in matched),
        )
    return Route("ask", text, "a question for the journey map")


def _first_name(patterns: tuple[re.Pattern[str], ...], text: str) -> str | None:
    for pattern in patterns:
        match = pattern.match(text)
        if match:
            name = match.group("name").strip(" ?.!'\"")
            if name and name.lower() not in {"it", "this", "that", "the account", "the deal", "they", "we"}:
                return name
    return None
