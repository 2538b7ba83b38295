"""Which buyer questions the content library answers, and where it is thin.

Pure functions over the map and an embedding model, so the gap skill, its tests and the
threshold calibration (bench/gap_threshold.py) all measure the same thing.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Literal, Protocol

import numpy as np

from knowledge.models import ContentAsset, JourneyMap

# Cosine (all-MiniLM-L6-v2) between a question's text and an asset's "title. summary",
# above which a same-stage asset is taken to answer a question no asset lists.
# Calibrated with `python -m bench.gap_threshold` on the sample map (1,847 same-stage
# question x asset pairs, 140 explicit links): at 0.60 precision is 0.964 (54/56) and
# recall 0.386 (0.575 gives 0.918 / 0.479, 0.55 only 0.835 / 0.507); deciding per question
# by the best same-stage asset, 50 of the 51 linked questions kept are right, and none of
# the 21 unlinked ones is called covered. Precision matters more than recall here: a
# false "semantic" hides a real gap from marketing.
SEMANTIC_THRESHOLD = 0.60

# A stage x persona cell with at most this many assets is reported as thin.
THIN_CELL_MAX = 1

Answered = Literal["explicit", "semantic", "none"]


class Embedder(Protocol):
    def embed(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True, kw_only=True)
class Match:
    """How one buyer question is covered; `score` is the best same-stage cosine when
    no asset lists the question (None when it is explicit or the stage has no assets)."""

    stage_id: str
    question_id: str
    text: str
    personas: tuple[str, ...]
    answered: Answered
    asset_ids: tuple[str, ...]
    score: float | None = None
    nearest_asset_id: str | None = None

    @property
    def label(self) -> str:
        if self.answered == "semantic":
            return f"semantic ({self.score:.2f}, {self.asset_ids[0]})"
        return self.answered

    def to_dict(self) -> dict[str, object]:
        return {
            "stage_id": self.stage_id,
            "question_id": self.question_id,
            "text": self.text,
            "personas": list(self.personas),
            "answered": self.answered,
            "label": self.label,
            "asset_ids": list(self.asset_ids),
            "score": self.score,
            "nearest_asset_id": self.nearest_asset_id,
        }


def asset_text(asset: ContentAsset) -> str:
    return f"{asset.title}. {asset.summary}"


_CACHE_SIZE = 4
_cache: list[tuple[Embedder, str, np.ndarray]] = []
_cache_lock = threading.Lock()


def similarity(journey_map: JourneyMap, embedder: Embedder) -> np.ndarray:
    """Cosine of every buyer question (rows, in `journey_map.questions()` order) against
    every asset (columns); the vectors are L2-normalised, so a dot product suffices.
    Embedding full summaries costs seconds, so the last few results are kept in memory
    (keyed by the exact texts and the model instance) for repeated audits in one process."""
    questions = [q.text for _, q in journey_map.questions()]
    assets = [asset_text(a) for a in journey_map.assets]
    if not questions or not assets:
        return np.zeros((len(questions), len(assets)), dtype=np.float32)
    key = hashlib.sha256(json.dumps([questions, assets]).encode()).hexdigest()
    with _cache_lock:
        for model, cached_key, matrix in _cache:
            if model is embedder and cached_key == key:
                return matrix
    matrix = embedder.embed(questions) @ embedder.embed(assets).T
    matrix.setflags(write=False)
    with _cache_lock:
        _cache.append((embedder, key, matrix))
        del _cache[:-_CACHE_SIZE]
    kept: np.ndarray = matrix
    return kept


def match_questions(
    journey_map: JourneyMap, scores: np.ndarray, threshold: float = SEMANTIC_THRESHOLD
) -> list[Match]:
    """Explicit links win; otherwise the same-stage assets scoring >= threshold, best
    first. Assets of other stages never count: a stage's questions need its content."""
    explicit: dict[str, list[str]] = {}
    for asset in journey_map.assets:
        for question_id in asset.answers:
            explicit.setdefault(question_id, []).append(asset.id)
    matches: list[Match] = []
    for row, (stage, question) in enumerate(journey_map.questions()):
        match = partial(Match, stage_id=stage.id, question_id=question.id, text=question.text,
                        personas=tuple(question.personas))
        if question.id in explicit:
            matches.append(match(answered="explicit", asset_ids=tuple(explicit[question.id])))
            continue
        ranked = sorted(
            ((float(scores[row, col]), a.id) for col, a in enumerate(journey_map.assets) if stage.id in a.stages),
            reverse=True,
        )
        if not ranked:
            matches.append(match(answered="none", asset_ids=()))
            continue
        best, nearest = ranked[0]
        above = tuple(asset_id for score, asset_id in ranked if score >= threshold)
        matches.append(match(answered="semantic" if above else "none", asset_ids=above, score=round(best, 3),
                             nearest_asset_id=nearest))
    return matches


def calibration_pairs(journey_map: JourneyMap, scores: np.ndarray) -> list[tuple[float, bool]]:
    """(cosine, is an explicit link) for every question x asset of the question's stage:
    the explicit links are the positives, every other same-stage asset a negative."""
    pairs: list[tuple[float, bool]] = []
    for row, (stage, question) in enumerate(journey_map.questions()):
        for col, asset in enumerate(journey_map.assets):
            if stage.id in asset.stages:
                pairs.append((float(scores[row, col]), question.id in asset.answers))
    return pairs


def precision_recall(pairs: Sequence[tuple[float, bool]], threshold: float) -> tuple[float, float, int]:
    """Precision, recall and pairs kept at `threshold` (precision 1.0 when none is kept)."""
    kept = [positive for score, positive in pairs if score >= threshold]
    positives = sum(positive for _, positive in pairs)
    hits = sum(kept)
    precision = hits / len(kept) if kept else 1.0
    recall = hits / positives if positives else 0.0
    return precision, recall, len(kept)


def fits(asset: ContentAsset, stage_id: str, persona_id: str) -> bool:
    """An asset with no personas is for everyone."""
    return stage_id in asset.stages and (not asset.personas or persona_id in asset.personas)


def cell_counts(journey_map: JourneyMap) -> dict[str, dict[str, int]]:
    """Assets per stage x persona: {stage id: {persona id: count}}, both in map order."""
    return {
        stage.id: {p.id: sum(fits(a, stage.id, p.id) for a in journey_map.assets) for p in journey_map.personas}
        for stage in sorted(journey_map.stages, key=lambda s: s.order)
    }


def months_before(moment: dt.date, months: int) -> dt.date:
    """The same day `months` earlier (clamped to the month's end: 31 Mar - 1 = 28/29 Feb)."""
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return dt.date(year, month + 1, day)


def stale_assets(journey_map: JourneyMap, cutoff: dt.date) -> list[ContentAsset]:
    """Assets last reviewed before `cutoff`, oldest first."""
    return sorted((a for a in journey_map.assets if a.last_reviewed < cutoff), key=lambda a: (a.last_reviewed, a.id))


def normalise_question(text: str) -> str:
    """The key that de-duplicates Slack questions: case, spacing and end punctuation."""
    return " ".join(text.casefold().split()).rstrip("?!. ")
