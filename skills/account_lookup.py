"""Shared by `account` and `deal`: finding a record from what a rep typed (name, domain, id,
HubSpot URL) with one `RecordFinder`, asking back instead of guessing, and the
committee/content vocabulary.

Fuzzy matching never picks between close candidates: a wrong account is worse than a
question back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar
from urllib.parse import urlsplit

from rapidfuzz import fuzz, process

from knowledge.catalog import content_for
from knowledge.models import ContentAsset, JourneyMap, Persona, Stage
from skills.crm import CrmNotFound
from skills.names import core_tokens, name_tokens
from skills.registry import SkillInputError

NAME_CUTOFF = 75.0  # token-set similarity (0-100) below which a name is not a candidate
NAME_MARGIN = 6.0  # the best candidate must lead the next by this much to be picked
MAX_CHOICES = 8
_OBJECT_CODES = {"0-1": "contact", "0-2": "company", "0-3": "deal"}
_PATH = re.compile(r"/(?:(contact|company|deal)|record/(0-[123]))/(\d+)(?:/|$)")
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$")


def record_ref(text: str) -> tuple[str, str] | None:
    """(object type, id) of a HubSpot record URL such as .../contacts/123/company/678 or
    .../record/0-3/678; None when the text is not a HubSpot URL."""
    raw = text.strip()
    if not re.match(r"^(https?://)?app(-[a-z0-9]+)?\.hubspot\.com/", raw, re.IGNORECASE):
        return None
    parts = urlsplit(raw if "://" in raw else f"https://{raw}")
    match = _PATH.search(parts.path)
    if match is None:
        return ("unknown", "")
    kind = match.group(1) or _OBJECT_CODES[match.group(2)]
    return kind, match.group(3)


def as_domain(text: str) -> str | None:
    """The bare domain when the text is one (acme.com, https://www.acme.com/about), else None."""
    raw = text.strip().lower()
    if " " in raw or "." not in raw or "@" in raw:
        return None
    host = urlsplit(raw if "://" in raw else f"//{raw}").hostname or ""
    host = host.removeprefix("www.")
    return host if _DOMAIN.match(host) else None


def normalize_name(text: str) -> str:
    return " ".join(core_tokens(name_tokens(text)))


@dataclass(frozen=True)
class NameMatch:
    """`picked` is the one clear match; otherwise `candidates` (id, score) to ask back with."""

    picked: str | None
    candidates: list[tuple[str, float]] = field(default_factory=list)
    total: int = 0  # how many fit as closely (candidates holds at most MAX_CHOICES)


SKILL_FOR_RECORD = {"company": ("account", "companies"), "deal": ("deal", "deals")}


def direct_id(query: str, kind: str) -> str | None:
    """The HubSpot id `query` names directly (a record URL or a bare id), else None. A
    record URL of another kind is an input error that names the command to use."""
    ref = record_ref(query)
    if ref is None:
        return query if query.isdigit() else None
    if ref[0] != kind:
        other = SKILL_FOR_RECORD.get(ref[0])
        hint = f" (use `{other[0]}` for {other[1]})" if other else ""
        raise SkillInputError(f"that HubSpot link is not a {kind} record{hint}: {query}")
    return ref[1]


def match_names(query: str, items: Sequence[tuple[str, str]]) -> NameMatch:
    """Match `query` against (id, name) pairs. The full name as written wins. A name
    without its legal suffixes fits no better than a name it leads ("Globex" fits Globex
    Corporation and Globex Logistics alike: asked back), unless the query names a legal
    form itself ("Globex Corp"). Otherwise token-set similarity, picked only when it
    leads clearly."""
    q_full = name_tokens(query)
    q = core_tokens(q_full)
    if not q:
        return NameMatch(None)
    fulls = [name_tokens(name) for _, name in items]
    cores = [core_tokens(tokens) for tokens in fulls]
    written = [i for i, tokens in enumerate(fulls) if tokens == q_full]
    if len(written) == 1:
        return _exactly(items, written)
    same = [i for i, core in enumerate(cores) if core == q]
    if same:
        led = [] if q != q_full else [i for i, core in enumerate(cores) if len(core) > len(q) and core[:len(q)] == q]
        return _exactly(items, same + sorted(led, key=lambda i: (len(cores[i]), cores[i])))
    names = [" ".join(core) for core in cores]
    joined = " ".join(q)
    scored = process.extract(joined, names, scorer=fuzz.token_set_ratio, score_cutoff=NAME_CUTOFF, limit=None)
    if not scored:
        return NameMatch(None)
    ranked = sorted(scored, key=lambda s: (-s[1], -fuzz.ratio(joined, names[s[2]]), names[s[2]]))
    best = ranked[0][1]
    close = [s for s in ranked if s[1] >= best - NAME_MARGIN]
    candidates = [(items[s[2]][0], round(float(s[1]), 1)) for s in close[:MAX_CHOICES]]
    return NameMatch(candidates[0][0] if len(close) == 1 else None, candidates, len(close))


def _exactly(items: Sequence[tuple[str, str]], fits: Sequence[int]) -> NameMatch:
    """Names that fit equally well: the one, or all of them to ask back with."""
    candidates = [(items[i][0], 100.0) for i in fits[:MAX_CHOICES]]
    return NameMatch(candidates[0][0] if len(fits) == 1 else None, candidates, len(fits))


def closest_names(query: str, names: Sequence[str], limit: int = 3) -> list[str]:
    """Loose suggestions for a 'did you mean' when nothing matched."""
    found = process.extract(normalize_name(query), [normalize_name(n) for n in names], scorer=fuzz.WRatio,
                            score_cutoff=50, limit=limit)
    return [names[i] for _, _, i in found]


class Named(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


R = TypeVar("R", bound=Named)


@dataclass(frozen=True)
class Ambiguous(Generic[R]):
    """Several records fit what was typed about equally: the rep is asked which one."""

    query: str
    fits: list[tuple[R, float]]  # (record, score), best first, at most MAX_CHOICES
    total: int  # how many fit as closely
    message: str


def _no_key(_: object) -> str | None:
    return None


@dataclass(frozen=True)
class RecordFinder(Generic[R]):
    """Finds one CRM record of a kind from what a rep typed: a record URL or id (one
    read), another exact key such as a domain, else the name over the cached list
    (`match_names`). One finder for every kind, so accounts and deals ask back alike."""

    kind: str  # as in HubSpot record URLs: "company", "deal"
    plural: str
    skill: str  # the command that shows one
    by_id: Callable[[str], R]  # one read; CrmNotFound when there is none
    records: Callable[[], Sequence[R]]  # the cached list names are matched in
    key: str = ""  # another exact key reps type instead of a name ("domain"), if any
    key_in: Callable[[str], str | None] = _no_key  # that key, normalized, in a text (None: not one)
    key_of: Callable[[R], str | None] = _no_key  # a record's raw key

    def find(self, text: str) -> R | Ambiguous[R]:
        query = text.strip()
        key = f"{self.key}, " if self.key else ""
        if not query:
            raise SkillInputError(f"`{self.skill}` needs a {self.kind}: its name, {'its ' + key if key else ''}"
                                  "its HubSpot id or its record URL.")
        record_id = direct_id(query, self.kind)
        if record_id is not None:
            try:
                return self.by_id(record_id)
            except CrmNotFound:
                raise SkillInputError(f"no {self.kind} with HubSpot id {record_id} (deleted, or not a {self.kind} id)."
                                      ) from None
        records = self.records()
        wanted = self.key_in(query) if self.key else None
        if wanted is not None:
            hits = [r for r in records if self.key_in(self.key_of(r) or "") == wanted]
            if len(hits) == 1:
                return hits[0]
            if hits:
                return self._ambiguous(query, [(r, 100.0) for r in hits], len(hits))
        match = match_names(query, [(r.id, r.name) for r in records])
        by_id = {r.id: r for r in records}
        if match.picked is not None:
            return by_id[match.picked]
        if match.candidates:
            return self._ambiguous(query, [(by_id[i], score) for i, score in match.candidates], match.total)
        near = closest_names(query, [r.name for r in records])
        hint = f" Closest names: {', '.join(near)}." if near else ""
        what = f"{self.key} or name" if wanted is not None else "name"
        raise SkillInputError(f"no {self.kind} in HubSpot matches the {what} {query!r}.{hint} "
                              f"Try the exact name, {'the ' + key if key else ''}the HubSpot id or the record URL.")

    def _ambiguous(self, query: str, fits: list[tuple[R, float]], total: int) -> Ambiguous[R]:
        shown = fits[:MAX_CHOICES]
        more = f" (showing {len(shown)})" if total > len(shown) else ""
        key = f"{self.key}, " if self.key else ""
        return Ambiguous(query, shown, total, f"{total} {self.plural} match {query!r}{more}; which one? "
                                              f"Reply with the name, {key}id or record URL.")


@dataclass
class Candidate:
    """One record the bot can offer when it asks back."""

    id: str
    name: str
    detail: str
    score: float


@dataclass(kw_only=True)
class Member:
    """A contact's place in the buying committee (no email or phone, ever)."""

    contact_id: str
    name: str
    job_title: str | None
    persona_id: str | None
    persona_name: str | None
    matched_by: str | None  # "buying_role", "job_title" or None (no persona fits)
    evidence: str | None


@dataclass
class AssetPick:
    id: str
    title: str
    url: str
    why: str


def pick_assets(journey_map: JourneyMap, stage: Stage, persona: Persona, limit: int = 2) -> list[AssetPick]:
    """The stage's assets that best fit the persona: made for them and answering the
    questions they ask here first; `why` names the buyer question answered."""
    questions = {q.id: q for q in stage.questions}
    theirs = {q.id for q in stage.questions if not q.personas or persona.id in q.personas}

    def rank(pair: tuple[int, ContentAsset]) -> tuple[int, int, int]:
        index, asset = pair
        return (-(persona.id in asset.personas), -len(theirs.intersection(asset.answers)), index)

    assets = content_for(journey_map, stage, persona)
    out = []
    for _, asset in sorted(enumerate(assets), key=rank)[:limit]:
        answered = [questions[q] for q in asset.answers if q in theirs] or \
            [questions[q] for q in asset.answers if q in questions]
        why = f"answers “{answered[0].text}”" if answered else f"{asset.format} for {stage.name}: {asset.summary}"
        out.append(AssetPick(asset.id, asset.title, str(asset.url), why))
    return out
