"""Which skill a message asks for, learned from the example utterances each skill
declares: the message's embedding against theirs (nearest examples per skill), plus a
linear classifier fitted on the same examples (and the map's own questions for `ask`),
with no list of patterns to keep up."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from knowledge.inference import LinearModel, fit_ridge
from skills.registry import Registry

TOP_EXAMPLES = 3
# The classifier's probability counts this much next to the nearest examples' similarity
# (calibrated on the dev split with the classifier's own L2 and temperature).
LEARNED_WEIGHT, LEARNED_L2, LEARNED_TEMPERATURE = 0.05, 1.0, 6.0
# Names and time phrases the examples' placeholders are filled with; a message's own
# names are replaced by the same ones, so only the way it asks is compared.
FILLERS: dict[str, tuple[str, ...]] = {
    "company": ("Contoso", "Fabrikam", "Wingtip Toys", "Litware", "Tailspin"),
    "deal": ("Contoso platform", "Fabrikam renewal", "Wingtip expansion"),
    "owner": ("Dana", "Sam Rivera", "Lee"),
    "time": ("last week", "this month", "since October"),
}
_PLACEHOLDER = re.compile(r"\{(company|deal|owner|time)\}")


class Embedder(Protocol):
    def embed(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class IntentModel:
    skills: tuple[str, ...]
    vectors: np.ndarray  # (examples, 384), unit length
    owners: np.ndarray  # skill index of each example
    # The classifier and the extra examples it was fitted with (the live release's map
    # questions): refitted only when those are other arrays (a new release).
    _fitted: tuple[tuple[np.ndarray, ...], LinearModel | None] | None = field(default=None, compare=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @classmethod
    def build(cls, registry: Registry, embeddings: Embedder) -> IntentModel:
        texts: list[str] = []
        owners: list[int] = []
        skills = tuple(name for name, skill in registry.skills.items() if skill.utterances)
        for index, name in enumerate(skills):
            for utterance in registry.skills[name].utterances:
                texts.append(fill(utterance))
                owners.append(index)
        return cls(skills, embeddings.embed(texts), np.asarray(owners))

    def similarities(
        self, vector: np.ndarray | list[float], extra: dict[str, np.ndarray] | None = None, extra_discount: float = 0.0
    ) -> dict[str, float]:
        """Mean cosine similarity of each skill's nearest examples; `extra` adds example
        vectors for a skill (the map's own questions speak for `ask`), counted less by
        `extra_discount` because buyers' words are not quite reps' words."""
        query = np.asarray(vector, dtype=np.float32)
        sims = self.vectors @ query
        out: dict[str, float] = {}
        for index, name in enumerate(self.skills):
            own = sims[self.owners == index]
            more = (extra or {}).get(name)
            if more is not None and len(more):
                own = np.concatenate([own, more @ query - extra_discount])
            top = np.sort(own)[::-1][:TOP_EXAMPLES]
            out[name] = float(top.mean()) if len(top) else 0.0
        learned = self.learned(extra)
        if learned is not None:
            for name, probability in learned.probabilities(query).items():
                out[name] += LEARNED_WEIGHT * probability
        return out

    def learned(self, extra: dict[str, np.ndarray] | None = None) -> LinearModel | None:
        """The classifier over the examples and `extra`, fitted on first use (~0.1 s)."""
        extra = {k: v for k, v in sorted((extra or {}).items()) if k in self.skills and len(v)}
        arrays = tuple(extra.values())
        with self._lock:
            fitted = self._fitted
            if fitted is None or len(fitted[0]) != len(arrays) or any(a is not b for a, b in zip(fitted[0], arrays, strict=True)):
                vectors = np.vstack([self.vectors, *arrays])
                labels = [(self.skills[i],) for i in self.owners]
                labels += [(name,) for name, more in extra.items() for _ in range(len(more))]
                fitted = (arrays, fit_ridge(vectors, labels, temperature=LEARNED_TEMPERATURE, l2=LEARNED_L2))
                object.__setattr__(self, "_fitted", fitted)  # a frozen model's one cache
            return fitted[1]


def fill(utterance: str) -> str:
    """An example with its placeholders filled (the same filler each time)."""
    return _PLACEHOLDER.sub(lambda m: FILLERS[m.group(1)][0], utterance)


_models: dict[tuple[int, int], IntentModel] = {}
_models_lock = threading.Lock()


def intent_model(registry: Registry, embeddings: Embedder) -> IntentModel:
    """One model per registry and embedding model in a process (built in about a second)."""
    key = (id(registry), id(embeddings))
    with _models_lock:
        if key not in _models:
            _models[key] = IntentModel.build(registry, embeddings)
        return _models[key]
