"""Scoring retrieval against a golden question set: is an acceptable asset in the top 3,
is the stage right, is the persona right. The tests and `python -m bench.retrieval`
use it on the sample map's golden set (tests/data/golden_questions.yaml)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from knowledge.retrieval import Retriever

TYPO_MIN_LENGTH = 5
NOISE_PREFIXES = ("<@U0JOURNEY>", "<@U0JOURNEY|journeybot>", "hey <@U0JOURNEY>")
NOISE_SUFFIXES = (" :pray:", " :thinking_face:", " 🙏", " <https://app.hubspot.com/contacts/123/record/0-3/456|deal>", " :eyes: thx")


@dataclass(frozen=True)
class GoldenQuestion:
    question: str
    stage: str
    persona: str | None
    acceptable_assets: tuple[str, ...]


@dataclass
class EvalResult:
    total: int = 0
    asset_hits: int = 0
    stage_hits: int = 0
    persona_hits: int = 0
    misses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def asset_top3(self) -> float:
        return self.asset_hits / self.total if self.total else 0.0

    @property
    def stage_accuracy(self) -> float:
        return self.stage_hits / self.total if self.total else 0.0

    @property
    def persona_accuracy(self) -> float:
        return self.persona_hits / self.total if self.total else 0.0


def load_golden(path: Path) -> list[GoldenQuestion]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        GoldenQuestion(item["question"], item["stage"], item.get("persona"), tuple(item["acceptable_assets"]))
        for item in raw
    ]


def noisy_variant(question: str, seed: int) -> str:
    """The question as typed in a hurry in Slack: one or two typos, a mention, emoji or a link."""
    rng = random.Random(seed)
    tokens = question.split(" ")
    candidates = [i for i, t in enumerate(tokens) if len(t) >= TYPO_MIN_LENGTH and t.isalpha()]
    for index in rng.sample(candidates, k=min(len(candidates), rng.choice((1, 2)))):
        word = tokens[index]
        pos = rng.randrange(1, len(word) - 2)
        kind = rng.choice(("swap", "drop", "double"))
        if kind == "swap":
            word = word[:pos] + word[pos + 1] + word[pos] + word[pos + 2 :]
        elif kind == "drop":
            word = word[:pos] + word[pos + 1 :]
        else:
            word = word[:pos] + word[pos] + word[pos:]
        tokens[index] = word
    return f"{rng.choice(NOISE_PREFIXES)} {' '.join(tokens)}{rng.choice(NOISE_SUFFIXES)}"


def evaluate(retriever: Retriever, golden: list[GoldenQuestion], *, noisy: bool = False, k: int = 3) -> EvalResult:
    result = EvalResult()
    for i, item in enumerate(golden):
        question = noisy_variant(item.question, seed=i) if noisy else item.question
        retrieval = retriever.retrieve(question, k=k)
        top = [h.unit.ref_id for h in retrieval.assets[:k]]
        stage = retrieval.stage.stage_id if retrieval.stage else None
        asset_ok = any(a in item.acceptable_assets for a in top)
        stage_ok = stage == item.stage
        persona_ok = retrieval.persona_id == item.persona
        result.total += 1
        result.asset_hits += asset_ok
        result.stage_hits += stage_ok
        result.persona_hits += persona_ok
        if not (asset_ok and stage_ok):
            result.misses.append(
                {"question": question, "stage": stage, "expected_stage": item.stage, "top": top,
                 "acceptable": list(item.acceptable_assets), "persona": retrieval.persona_id, "expected_persona": item.persona}
            )
    return result
