"""The name directory's typo candidates: only names that cannot reach the cutoff are left
out (the length bound is exact), closest lengths first."""

from __future__ import annotations

import random
import string

from rapidfuzz import fuzz

from skills.entities import FUZZY_CUTOFF, find_entities
from skills.names import NameDirectory, NamedRecord


def _names(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        words = ["".join(rng.choices(string.ascii_lowercase[:6], k=rng.randint(2, 9))) for _ in range(rng.randint(1, 3))]
        out.append(" ".join(words))
    return out


def test_no_name_that_could_reach_the_cutoff_is_left_out() -> None:
    rng = random.Random(7)
    directory = NameDirectory.of(NamedRecord("company", str(i), name) for i, name in enumerate(_names(rng, 3000)))
    every = [name for names in directory.fuzzy_choices.values() for name in names]
    for text in _names(rng, 300):
        candidates = directory.fuzzy_candidates(text, FUZZY_CUTOFF)
        reachable = {name for name in every if name[:1] == text[:1] and fuzz.ratio(text, name) >= FUZZY_CUTOFF}
        assert reachable <= set(candidates)
        assert len(candidates) < sum(1 for name in every if name[:1] == text[:1]) or not candidates
        gaps = [abs(len(c) - len(text)) for c in candidates]
        assert gaps == sorted(gaps)


def test_a_typo_in_a_big_portal_still_finds_its_company() -> None:
    records = [NamedRecord("company", f"g{i}", f"Company {i:05d} Holdings") for i in range(2000)]
    records.append(NamedRecord("company", "x1", "Vandelay Industries"))
    [entity] = find_entities("how engaged is vandeley industries?", NameDirectory.of(records))
    assert entity.record is not None and entity.record.id == "x1" and entity.strength == 1.0
