"""Before or after the purchase? Reps say so in passing ("prospect", "warming up" vs
"customer", "went live"); that cue keeps stage inference on the right side of the sale.
Some say they stand right at the signature ("before he signs", "signed last week"): that
points to the last stage before it or the first one after it, in the map's own order.

A stage is post-purchase when the map ties it to the customer or evangelist lifecycle
stages or to the closed-won deal stage.
"""

from __future__ import annotations

import re
from typing import Literal

from knowledge.models import Stage

Phase = Literal["pre", "post"]

POST_LIFECYCLE = frozenset({"customer", "evangelist"})
POST_DEAL_STAGES = frozenset({"closedwon"})

_BEFORE_WHO = r"before (?:(?:they|he|she|we)(?:'ll| will)? )?"  # "before", "before they'll", ...
_PRE = re.compile(
    r"\b(prospects?|prospect's|target account|cold account|warming (?:them )?up|net[- ]new|"
    r"(?:other|two|three|several) vendors|shortlist|not (?:yet )?(?:a )?customer|"
    rf"{_BEFORE_WHO}(?:buy|buying|sign|signs|signing|pick|choose|commit|put pen to paper))\b"
)
_POST = re.compile(
    r"\b(customers?(?!\s+(?:stor(?:y|ies)|references?|case|proof|logos?|reviews?|quotes?))|customer's|"
    r"went live|are live|is live|they're live|live and|using it|been using|been on|signed last|just signed|"
    r"renewals?|renew|churn(?:ing)?|seats|rolled out|roll(?:ing)? (?:us|it) out|existing account|our best accounts?|happy account)\b"
)


# Standing right at the signature: the last stage before it, or the first one after. "A new
# customer" is one that just signed; "new customers" (plural) are the ones still to win.
_JUST_BEFORE = re.compile(
    rf"\b{_BEFORE_WHO}(?:sign|signs|signing|put pen to paper)\b"
)
_JUST_AFTER = re.compile(
    r"\b(?:(?:just|recently|newly) signed|signed (?:yesterday|today|last week|this week|on \w+day)|"
    r"(?:right|just|straight) after (?:they|we|he|she) sign(?:ed)?|new customer(?:'s)?(?!s))\b"
)


def stage_phase(stage: Stage) -> Phase:
    post = POST_LIFECYCLE.intersection(stage.hubspot.lifecycle_stages) or POST_DEAL_STAGES.intersection(stage.hubspot.deal_stages)
    return "post" if post else "pre"


def question_phase(text: str) -> Phase | None:
    """The phase the question's wording points to, or None when it says nothing (or both)."""
    lowered = text.lower()
    pre, post = len(_PRE.findall(lowered)), len(_POST.findall(lowered))
    if pre == post:
        return None
    return "pre" if pre > post else "post"


def signing_side(text: str) -> Phase | None:
    """"pre" when the question stands just before the signature ("before they sign"),
    "post" just after it ("signed last week"), else None."""
    lowered = text.lower()
    before, after = bool(_JUST_BEFORE.search(lowered)), bool(_JUST_AFTER.search(lowered))
    if before == after:
        return None
    return "pre" if before else "post"


def boundary_stage(order: list[str], phases: dict[str, Phase], side: Phase) -> str | None:
    """The last pre-purchase stage, or the first post-purchase one, in the map's order."""
    ids = [sid for sid in order if phases.get(sid) == side]
    if not ids:
        return None
    return ids[-1] if side == "pre" else ids[0]
