"""The names the CRM knows (companies, deals, owners), indexed for finding them inside a
sentence: by their full name, without legal suffixes, by a distinctive leading part
("Northwind" for "Northwind Traders"), or with a typo.

Ids and names only: no email or phone ever enters the directory.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

EntityType = Literal["company", "deal", "owner"]

LEGAL_SUFFIXES = frozenset({
    "inc", "incorporated", "llc", "ltd", "limited", "gmbh", "corp", "corporation", "co", "plc", "ag", "sa", "bv",
    "the", "company",
})
_TOKEN = re.compile(r"[0-9a-z]+")
_POSSESSIVE = ("'", "\u2019")


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """Lower-case words with their character spans; punctuation and a possessive 's
    dropped ("O'Brien & Sons" -> o, brien, sons; "Priya's" -> priya)."""
    folded = text.casefold()
    out: list[tuple[str, int, int]] = []
    for match in _TOKEN.finditer(folded):
        start = match.start()
        if match.group() == "s" and start > 0 and folded[start - 1] in _POSSESSIVE:
            continue
        out.append((match.group(), start, match.end()))
    return out


def name_tokens(text: str) -> tuple[str, ...]:
    return tuple(word for word, _, _ in word_spans(text))


def core_tokens(tokens: Sequence[str]) -> tuple[str, ...]:
    kept = tuple(t for t in tokens if t not in LEGAL_SUFFIXES)
    return kept or tuple(tokens)


@dataclass(frozen=True)
class NamedRecord:
    type: EntityType
    id: str
    name: str
    company_id: str | None = None  # a deal's company, when known


@dataclass(frozen=True)
class NameKey:
    """How well a run of words fits a record: 3 = its full name as written; 2 = its name
    without legal suffixes, or a leading part of it (equal on purpose: "Globex" fits
    Globex Corporation no better than Globex Logistics)."""

    record: NamedRecord
    strength: int


@dataclass
class NameDirectory:
    records: list[NamedRecord] = field(default_factory=list)

    @classmethod
    def of(cls, records: Iterable[NamedRecord]) -> NameDirectory:
        return cls([r for r in records if r.name and name_tokens(r.name)])

    def __len__(self) -> int:
        return len(self.records)

    def by_id(self, type_: EntityType, record_id: str) -> NamedRecord | None:
        return self._ids.get((type_, record_id))

    @cached_property
    def _ids(self) -> dict[tuple[str, str], NamedRecord]:
        return {(r.type, r.id): r for r in self.records}

    @cached_property
    def keys(self) -> dict[tuple[str, ...], list[NameKey]]:
        """Word tuples -> the records they name, strongest first."""
        table: dict[tuple[str, ...], dict[tuple[str, str], NameKey]] = defaultdict(dict)

        def put(key: tuple[str, ...], record: NamedRecord, strength: int) -> None:
            known = table[key].get((record.type, record.id))
            if known is None or known.strength < strength:
                table[key][(record.type, record.id)] = NameKey(record, strength)

        company_names = {r.id: core_tokens(name_tokens(r.name)) for r in self.records if r.type == "company"}
        for record in self.records:
            full = name_tokens(record.name)
            core = core_tokens(full)
            put(full, record, 3)
            put(core, record, 2)
            for key in self._leading_parts(record, core, company_names):
                put(key, record, 2)
        return {k: sorted(v.values(), key=lambda nk: -nk.strength) for k, v in table.items()}

    @staticmethod
    def _leading_parts(
        record: NamedRecord, core: tuple[str, ...], company_names: dict[str, tuple[str, ...]]
    ) -> Iterable[tuple[str, ...]]:
        """Shorter forms people type: "Northwind" for Northwind Traders, "Ava" for an
        owner Ava Adams, "Adventure Works renewal" for "Adventure Works renewal 2027"
        (a deal's leading part must say more than its company's name)."""
        if record.type == "owner":
            if len(core) > 1:
                yield core[:1]
                yield core[-1:]
            return
        stripped = tuple(t for t in core if not t.isdigit())
        if record.type == "deal" and stripped and stripped != core:
            yield stripped  # "Adventure Works renewal" for "... renewal 2027"
        floor = 1
        if record.type == "deal" and record.company_id in company_names:
            company = company_names[record.company_id or ""]
            if core[: len(company)] == company:
                floor = len(company) + 1
        for n in range(floor, len(core)):
            part = core[:n]
            if len("".join(part)) >= 4 and not all(t.isdigit() for t in core[n:]):
                yield part
        if floor > 1 and floor <= len(core):
            # "Northwind EMEA expansion" for "Northwind Traders - EMEA expansion": the
            # company by its leading part, then what the deal's name adds.
            company, rest = core[: floor - 1], core[floor - 1 :]
            for n in range(1, len(company)):
                if len("".join(company[:n])) >= 4:
                    yield company[:n] + rest

    @cached_property
    def max_words(self) -> int:
        return max((len(k) for k in self.keys), default=0)

    @cached_property
    def fuzzy_choices(self) -> dict[tuple[str, int], list[str]]:
        """Names a typo'd run of words is compared with (companies and owners in every
        form, deals by their full name only), by first letter and length: typos rarely hit
        the first letter, and a name far longer or shorter cannot reach the cutoff, so a
        big portal's names cost a message a small fraction of the comparisons."""
        out: dict[tuple[str, int], list[str]] = defaultdict(list)
        for key, hits in self.keys.items():
            if any(h.record.type != "deal" or h.strength == 3 for h in hits):
                joined = " ".join(key)
                out[(joined[:1], len(joined))].append(joined)
        return dict(out)

    def fuzzy_candidates(self, text: str, cutoff: float) -> list[str]:
        """The names that could score `cutoff` (rapidfuzz's ratio, 0-100) against `text`,
        closest lengths first. The ratio is at most 100 * (1 - |a - b| / (a + b)) for
        lengths a and b, so other lengths are never compared."""
        n, share = len(text), 1 - cutoff / 100
        low, high = math.ceil(n * (1 - share) / (1 + share)), math.floor(n * (1 + share) / (1 - share))
        choices = self.fuzzy_choices
        out: list[str] = []
        for length in sorted(range(low, high + 1), key=lambda m: (abs(m - n), m)):
            out += choices.get((text[:1], length), ())
        return out
