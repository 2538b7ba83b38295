"""A small BM25 index: the lexical half of hybrid retrieval (exact product names, acronyms
and jargon that embeddings blur)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict

from knowledge.text import words

STOPWORDS = frozenset(
    "a an and are as at be but by can do does for from has have how i in is it its me my "
    "of on or our so that the their them they this to was we what when where which who "
    "why will with you your about any should send".split()
)


def terms(text: str) -> list[str]:
    return [_stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 1]


def _stem(word: str) -> str:
    for suffix in ("ing", "ies", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


class BM25:
    def __init__(self, docs: dict[str, str], *, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.postings: dict[str, list[tuple[str, int]]] = defaultdict(list)
        self.lengths: dict[str, int] = {}
        for doc_id, text in docs.items():
            counts = Counter(terms(text))
            self.lengths[doc_id] = sum(counts.values())
            for term, count in counts.items():
                self.postings[term].append((doc_id, count))
        self.avg_length = (sum(self.lengths.values()) / len(self.lengths)) if self.lengths else 0.0
        n = len(self.lengths)
        self.idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()}

    def scores(self, query: str) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for term in set(terms(query)):
            idf = self.idf.get(term)
            if idf is None:
                continue
            for doc_id, count in self.postings[term]:
                norm = 1 - self.b + self.b * self.lengths[doc_id] / (self.avg_length or 1)
                out[doc_id] += idf * count * (self.k1 + 1) / (count + self.k1 * norm)
        return dict(out)
