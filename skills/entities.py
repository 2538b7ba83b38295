"""Company, deal and owner names found wherever they stand in a sentence ("where we
stand with Northwind", "Northwind - how engaged are they?"), matched against the names
the CRM knows: case, punctuation and legal suffixes ignored, typos tolerated, and a name
that fits several records equally kept ambiguous so the bot asks back."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from skills.names import EntityType, NameDirectory, NamedRecord, word_spans

FUZZY_CUTOFF = 88.0  # rapidfuzz ratio (0-100) for a typo'd name
FUZZY_MIN_CHARS = 5
FUZZY_MAX_WORDS = 3
TYPE_ORDER: dict[str, int] = {"company": 0, "deal": 1, "owner": 2}  # a name that fits both is the company


@dataclass(frozen=True)
class Entity:
    type: EntityType
    text: str  # as written in the message
    start: int
    end: int
    matches: tuple[NamedRecord, ...]  # one record, or several that fit equally
    strength: float  # 3 full name, 2 name or leading part, 1 a typo'd name

    @property
    def record(self) -> NamedRecord | None:
        return self.matches[0] if len(self.matches) == 1 else None

    @property
    def ambiguous(self) -> bool:
        return len(self.matches) > 1

    def to_dict(self) -> dict[str, object]:
        record = self.record
        return {
            "type": self.type,
            "text": self.text,
            "name": record.name if record else None,
            "id": record.id if record else None,
            "candidates": [{"name": r.name, "id": r.id} for r in self.matches] if self.ambiguous else [],
        }


@dataclass(frozen=True)
class _Span:
    start: int  # word index
    end: int
    strength: float
    records: tuple[NamedRecord, ...]


def find_entities(text: str, directory: NameDirectory, common_words: Collection[str] = ()) -> list[Entity]:
    """Every name in `text` the directory knows, longest first where they overlap."""
    words = word_spans(text)
    if not words or not len(directory):
        return []
    tokens = [w for w, _, _ in words]
    found: list[_Span] = []
    for size in range(min(directory.max_words, len(tokens)), 0, -1):
        for i in range(len(tokens) - size + 1):
            key = tuple(tokens[i : i + size])
            hits = directory.keys.get(key)
            if not hits or (size == 1 and _is_plain_word(text, words[i], common_words)):
                continue
            best = hits[0].strength
            found.append(_Span(i, i + size, float(best), tuple(h.record for h in hits if h.strength == best)))
    found += _typos(text, words, directory, common_words, found)
    chosen: list[_Span] = []
    for span in sorted(found, key=lambda s: (-(s.end - s.start), -s.strength, s.start)):
        if all(span.end <= c.start or span.start >= c.end for c in chosen):
            chosen.append(span)
    return [_entity(text, words, span) for span in sorted(chosen, key=lambda s: s.start)]


def _is_plain_word(text: str, word: tuple[str, int, int], common_words: Collection[str]) -> bool:
    """A one-word name that is also an everyday word ("summit", "bright") counts only
    when written with a capital letter or as a possessive ("lakeside's kickoff")."""
    token, start, end = word
    possessive = text[end : end + 2] in ("'s", "\u2019s")
    return token in common_words and not text[start : start + 1].isupper() and not possessive


def _typos(
    text: str, words: list[tuple[str, int, int]], directory: NameDirectory,
    common_words: Collection[str], exact: list[_Span],
) -> list[_Span]:
    taken = {i for span in exact for i in range(span.start, span.end)}
    out: list[_Span] = []
    for size in range(min(FUZZY_MAX_WORDS, len(words)), 0, -1):
        for i in range(len(words) - size + 1):
            window = words[i : i + size]
            if taken.intersection(range(i, i + size)) or all(w in common_words for w, _, _ in window):
                continue
            joined = " ".join(w for w, _, _ in window)
            if len(joined) < FUZZY_MIN_CHARS:
                continue
            choices = directory.fuzzy_candidates(joined, FUZZY_CUTOFF)
            best = process.extractOne(joined, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
            if best is None:
                continue
            hits = directory.keys[tuple(best[0].split())]
            top = hits[0].strength
            out.append(_Span(i, i + size, 1.0, tuple(h.record for h in hits if h.strength == top)))
    return out


def _entity(text: str, words: list[tuple[str, int, int]], span: _Span) -> Entity:
    by_type: dict[str, list[NamedRecord]] = {}
    for record in span.records:
        by_type.setdefault(record.type, []).append(record)
    kind = min(by_type, key=lambda t: TYPE_ORDER.get(t, 9))
    start, end = words[span.start][1], words[span.end - 1][2]
    return Entity(kind, text[start:end], start, end, tuple(by_type[kind]), span.strength)  # type: ignore[arg-type]
