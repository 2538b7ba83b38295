"""Stage and persona inference learned from the map itself.

Every map is its own labelled data: its buyer questions, assets, touchpoints, stage
definitions, goals, emotions, triggers and persona descriptions each carry their stage
or persona. A ridge classifier over their embeddings (the release's stored vectors, the
same ones the retriever searches, so nothing is embedded twice) learns what each stage
and persona sounds like, for any valid map, with no list of phrasings.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from knowledge.models import JourneyMap
from knowledge.text import EVERYDAY_SHORT, singular, words

RIDGE_L2 = 1.0
STAGE_TEMPERATURE = 6.0
PERSONA_TEMPERATURE = 6.0
STAGE_KINDS = frozenset({"example", "question", "asset", "touchpoint", "stage"})
PERSONA_KINDS = frozenset({"example", "question", "asset", "persona"})
# Words too general to tell one stakeholder from another even when a title holds them.
_GENERIC_TITLE_WORDS = frozenset({
    "of", "the", "and", "team", "head", "lead", "director", "manager", "managers", "chief", "officer",
    "senior", "vice", "president", "svp", "evp", "s", "b", "sales", "ops", "operations", "internal",
})


@dataclass(frozen=True)
class LinearModel:
    """A one-vs-rest ridge classifier: scores = [x, 1] @ weights."""

    classes: tuple[str, ...]
    weights: np.ndarray  # (dimensions + 1, classes)
    temperature: float

    def probabilities(self, vector: Sequence[float] | np.ndarray) -> dict[str, float]:
        x = np.append(np.asarray(vector, dtype=np.float32), 1.0)
        scores = (x @ self.weights) * self.temperature
        scores -= scores.max()
        exp = np.exp(scores)
        probs = exp / exp.sum()
        return {c: float(p) for c, p in zip(self.classes, probs, strict=True)}


def fit_ridge(
    vectors: np.ndarray, labels: Sequence[tuple[str, ...]], *, temperature: float, l2: float = RIDGE_L2
) -> LinearModel | None:
    """Fit on rows whose label tuple is not empty; a row with several labels counts for
    each in equal parts, and every class weighs the same in total (maps hold far more
    assets for some stages than others)."""
    rows = [i for i, label in enumerate(labels) if label]
    classes = tuple(sorted({c for i in rows for c in labels[i]}))
    if len(classes) < 2:
        return None
    index = {c: n for n, c in enumerate(classes)}
    targets = np.zeros((len(rows), len(classes)), dtype=np.float64)
    for r, i in enumerate(rows):
        for c in labels[i]:
            targets[r, index[c]] = 1.0 / len(labels[i])
    mass = targets.sum(axis=0)
    sample_weight = (targets / np.clip(mass, 1e-9, None)).sum(axis=1) * len(rows) / len(classes)
    x = np.hstack([vectors[rows].astype(np.float64), np.ones((len(rows), 1))])
    xw = x * sample_weight[:, None]
    # One BLAS thread: a 385 x 385 solve takes milliseconds on one, and up to half a
    # second when several BLAS threads contend with the rest of the process for the cores.
    with threadpool_limits(limits=1, user_api="blas"):
        gram = x.T @ xw + l2 * np.eye(x.shape[1])
        gram[-1, -1] -= l2  # the bias is not shrunk
        weights = np.linalg.solve(gram, xw.T @ targets)
    return LinearModel(classes, weights.astype(np.float32), temperature)


CUE_MAX_SHARE = 0.03  # a title word in more of the map's other texts than this is everyday language


def title_cues(journey_map: JourneyMap) -> dict[str, str]:
    """Words, and pairs of words, that point to one persona in the map's titles, aliases and
    job-title patterns ("finance", "infosec", "sales ops"): a rep saying "the finance folks"
    implies that persona without using its full name.

    A word several personas' titles share points to the one holding most of them, at least
    half ("VP" in "VP Sales", "VP of Sales", "VP RevOps", "VP Finance"), unless the stage
    definitions use it: there it is the buyer in general ("the buyer", "the executive"). A
    pair counts where neither of its words is a cue alone. Words the map itself uses freely
    elsewhere ("revenue", "customer") and words of stage names ("decision" maker, the
    Decision stage) say nothing about who is meant."""
    texts = [t for s in journey_map.stages for t in (s.definition, *s.goals, *(q.text for q in s.questions),
                                                      *s.emotions, *s.obstacles, *s.information_needed)]
    texts += [f"{a.title} {a.summary}" for a in journey_map.assets]
    seen: Counter[str] = Counter(w for t in texts for w in {*map(singular, words(t)), *_pairs(t)})
    limit = max(2.0, CUE_MAX_SHARE * len(texts))
    general = {singular(w) for s in journey_map.stages for w in words(s.definition)}
    stage_words = {singular(w) for s in journey_map.stages for w in words(s.name)}
    singles, pairs = _title_counts(journey_map)

    def owner(word: str, ids: Counter[str]) -> str | None:
        if seen[word] > limit or word in stage_words or word in EVERYDAY_SHORT or (len(ids) > 1 and word in general):
            return None
        return _plurality(ids)

    cues = {word: found for word, ids in singles.items() if (found := owner(word, ids))}
    cues.update({pair: found for pair, ids in pairs.items()
                 if not set(pair.split()) & cues.keys() and (found := owner(pair, ids))})
    return cues


def _title_counts(journey_map: JourneyMap) -> tuple[dict[str, Counter[str]], dict[str, Counter[str]]]:
    """For each title word, and each pair of adjacent title words, how many of each
    persona's titles use it."""
    singles: dict[str, Counter[str]] = defaultdict(Counter)
    pairs: dict[str, Counter[str]] = defaultdict(Counter)
    for persona in journey_map.personas:
        phrases = [persona.name, *persona.aliases, *persona.hubspot_buying_roles]
        phrases += [_regex_words(p) for p in persona.job_title_patterns]
        for phrase in phrases:
            for word in {singular(w) for w in words(phrase.replace("_", " "))
                         if w not in _GENERIC_TITLE_WORDS and len(w) >= 2}:
                singles[word][persona.id] += 1
        for phrase in (persona.name, *persona.aliases, *persona.job_title_patterns):
            for fragment in _FRAGMENT_BREAK.split(phrase):
                for pair in set(_pairs(_regex_words(fragment))):
                    pairs[pair][persona.id] += 1
    return singles, pairs


_FRAGMENT_BREAK = re.compile(r"[|(),/;]|\.\*")
_FUNCTION_WORDS = frozenset({"of", "and", "the", "a", "an", "for", "in", "on", "to", "at", "or", "with"})


def _pairs(text: str) -> list[str]:
    return _pairs_of([singular(w) for w in words(text)])


def _pairs_of(tokens: list[str]) -> list[str]:
    """Adjacent word pairs, function words breaking them ("sales ops", not "director of")."""
    return [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)
            if a not in _FUNCTION_WORDS and b not in _FUNCTION_WORDS]


def _plurality(counts: Counter[str]) -> str | None:
    ranked = counts.most_common(2)
    if len(ranked) == 1:
        return ranked[0][0]
    (first, top), (_, second) = ranked
    return first if top > second and top * 2 >= sum(counts.values()) else None


def _regex_words(pattern: str) -> str:
    """The literal words of a job-title regex (escapes, groups and classes dropped)."""
    text = re.sub(r"\\[bBdDsSwW]", " ", pattern)
    text = re.sub(r"\[[^\]]*\]|\(\?[^)]*\)|[?*+{}()|^$.\\]", " ", text)
    return text


@dataclass
class MapInference:
    """What a question's vector says about its stage and persona."""

    stage_model: LinearModel | None
    persona_model: LinearModel | None
    cues: dict[str, str]
    # Vectors of what buyers ask and feel (questions and example texts): how a question
    # for the map sounds, in this map's own words.
    map_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 384), dtype=np.float32))

    @classmethod
    def from_units(
        cls, journey_map: JourneyMap, vectors: np.ndarray, metadatas: Sequence[dict[str, Any]]
    ) -> MapInference:
        stage_labels = [_labels(m, "stages", STAGE_KINDS) for m in metadatas]
        persona_labels = [_labels(m, "personas", PERSONA_KINDS) for m in metadatas]
        return cls(
            fit_ridge(vectors, stage_labels, temperature=STAGE_TEMPERATURE) if len(vectors) else None,
            fit_ridge(vectors, persona_labels, temperature=PERSONA_TEMPERATURE) if len(vectors) else None,
            title_cues(journey_map),
            vectors[[i for i, m in enumerate(metadatas) if m.get("kind") in ("question", "example")]]
            if len(vectors) else np.zeros((0, 384), dtype=np.float32),
        )

    def stages(self, vector: Sequence[float] | np.ndarray) -> dict[str, float]:
        return self.stage_model.probabilities(vector) if self.stage_model else {}

    def personas(self, vector: Sequence[float] | np.ndarray) -> dict[str, float]:
        return self.persona_model.probabilities(vector) if self.persona_model else {}

    def cued_persona(self, text: str) -> str | None:
        """The one persona the text's title words point to, if they agree."""
        tokens = [singular(w) for w in words(text)]
        found = Counter(self.cues[w] for w in tokens if w in self.cues)
        found.update(self.cues[p] for p in _pairs_of(tokens) if p in self.cues)
        if not found:
            return None
        ranked = found.most_common(2)
        return ranked[0][0] if len(ranked) == 1 or ranked[0][1] > ranked[1][1] else None


def _labels(meta: dict[str, Any], key: str, kinds: Iterable[str]) -> tuple[str, ...]:
    if str(meta.get("kind")) not in kinds:
        return ()
    raw = str(meta.get(key) or "")
    return tuple(x for x in raw.split(",") if x)
