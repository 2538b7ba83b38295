"""Which skill a message asks for, learned from the example utterances each skill
declares: the message's embedding against theirs (nearest examples per skill), with no
list of patterns to keep up."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from skills.registry import Registry

TOP_EXAMPLES = 3
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
        return out


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
