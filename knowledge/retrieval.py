"""Hybrid retrieval: detected stage and persona as filters and boosts, dense similarity
over the release's unit vectors, and BM25, combined into one ranking of assets and buyer questions."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from knowledge.detection import Detection, detector_for
from knowledge.glossary import expand_acronyms
from knowledge.inference import MapInference
from knowledge.lexical import BM25
from knowledge.models import JourneyMap
from knowledge.phase import Phase, boundary_stage, question_phase, signing_side, stage_phase
from knowledge.text import normalize
from knowledge.unit_vectors import UnitVectors
from knowledge.units import Unit, build_units

if TYPE_CHECKING:
    from knowledge.embeddings import MiniLMEmbeddings

DENSE_ASSETS = 60
DENSE_QUESTIONS = 30
W_DENSE, W_LEXICAL, W_ANSWERS = 0.55, 0.10, 0.40
OTHER_PHASE_FACTOR = 0.6
BOUNDARY_FACTOR = 0.2  # a question standing right at the signature: other stages' votes (dev)
VOTE_STAGE_TEXT, VOTE_QUESTIONS, VOTE_ASSETS, VOTERS = 0.3, 1.0, 1.0, 5
# Stage when none is named: the map-trained classifier and the retrieval vote, mixed.
W_CLASSIFIER = 0.5
# An implied persona needs the classifier this sure, and this far ahead of the next.
PERSONA_MIN_PROB, PERSONA_MIN_MARGIN = 0.65, 0.4
# A person described rather than named ("the person who signs off on spend"): the
# describing clause alone is classified, with its own bar (calibrated on dev).
CLAUSE_MIN_PROB, CLAUSE_MIN_MARGIN = 0.5, 0.3
_PERSON_DESCRIBED = re.compile(
    r"\b(?:guy|gal|person|people|woman|man|one|folks|lady|someone|somebody|exec)\s+"
    r"(?:who|that|whose|on|in|at|from|(?!thing\b)\w+ing)\b[^.?!,;:()\u2013\u2014]*",
    re.IGNORECASE,
)
STAGE_BONUS, PERSONA_BONUS, PERSONA_ANY_BONUS, PERSONA_OTHER_PENALTY = 0.10, 0.08, 0.03, 0.05


@dataclass(frozen=True)
class Hit:
    unit: Unit
    score: float
    dense: float
    lexical: float
    why: str = ""


@dataclass(frozen=True)
class StageGuess:
    stage_id: str
    how: str  # "named" (the question names it), "given" (caller chose it) or "inferred"
    confidence: float
    runners_up: tuple[str, ...] = ()  # an inferred guess: the other stages, likeliest first


@dataclass
class Retrieval:
    query: str
    normalized: str
    detection: Detection
    stage: StageGuess | None
    persona_id: str | None
    assets: list[Hit] = field(default_factory=list)
    questions: list[Hit] = field(default_factory=list)
    top_dense: float = 0.0
    persona_how: str | None = None  # "given", "named", "cued" (a title word), "inferred" or "described"


class Retriever:
    """Built once per live index release; safe to share between threads."""

    def __init__(self, journey_map: JourneyMap, vectors: UnitVectors, embeddings: MiniLMEmbeddings) -> None:
        self.journey_map = journey_map
        self.vectors = vectors
        self.embeddings = embeddings
        self.detector = detector_for(journey_map)
        self.units = {u.id: u for u in build_units(journey_map)}
        self.asset_lexical = BM25({u.id: u.text for u in self.units.values() if u.kind == "asset"})
        self.question_lexical = BM25({u.id: u.text for u in self.units.values() if u.kind == "question"})
        self.stage_order = [s.id for s in journey_map.stages]
        self.phases = {s.id: stage_phase(s) for s in journey_map.stages}

    @cached_property
    def inference(self) -> MapInference:
        return MapInference.from_units(self.journey_map, self.vectors.vectors, self.vectors.metadatas)

    def retrieve(
        self, text: str, *, stage_id: str | None = None, persona_id: str | None = None, k: int = 5
    ) -> Retrieval:
        normalized = normalize(text)
        detection = self.detector.detect(normalized)
        phase = question_phase(normalized)
        named_stage = stage_id or self._named_stage(detection, phase)
        expanded = expand_acronyms(normalized)
        vector = self.embeddings.embed_query(expanded or text)
        persona, persona_how = self.persona_of(normalized, vector, detection, given=persona_id)

        asset_dense = self.vectors.search(vector, DENSE_ASSETS, "asset", named_stage or None)
        question_dense = self.vectors.search(vector, DENSE_QUESTIONS, "question")
        stage_dense = self.vectors.search(vector, len(self.stage_order), "stage")

        asset_lex = _normalised(self.asset_lexical.scores(expanded))
        question_lex = _normalised(self.question_lexical.scores(expanded))
        named = StageGuess(named_stage, "given" if stage_id else "named", 1.0) if named_stage else None

        # Pass 1 ranks without a stage; when none is named, the leaders vote for one.
        questions = self._rank_questions(question_dense, question_lex, named, persona)
        answer_strength = {h.unit.ref_id: h.dense for h in questions}
        assets = self._rank_assets(asset_dense, asset_lex, answer_strength, named, persona, named_stage)
        side = signing_side(normalized)
        boundary = boundary_stage(self.stage_order, self.phases, side) if side else None
        stage = named or self._infer_stage(stage_dense, questions, assets, phase, vector, boundary)
        if stage is not None and named is None:
            questions = self._rank_questions(question_dense, question_lex, stage, persona)
            assets = self._rank_assets(asset_dense, asset_lex, answer_strength, stage, persona, None)
        top = max([*asset_dense.values(), *question_dense.values(), 0.0])
        return Retrieval(text, normalized, detection, stage, persona, assets[:k], questions[:k], top, persona_how)

    def said(self, text: str) -> tuple[str | None, str | None]:
        """The stage and the persona a message names, from its words alone (no embedding):
        what a skill other than the map Q&A may narrow itself to. A title word's cue is not
        enough there: "accounts" or "system" would narrow an audit to the wrong persona."""
        normalized = normalize(text)
        detection = self.detector.detect(normalized)
        return self._named_stage(detection, question_phase(normalized)), detection.persona_id

    def _named_stage(self, detection: Detection, phase: Phase | None) -> str | None:
        """The stage the question names, unless it names it by another word for it and
        says it stands on the other side of the sale: "how long does implementation take,
        before they sign?" is asked in the decision stage, about onboarding."""
        sid = detection.stage_id
        if sid is None or phase is None or self.phases.get(sid) == phase:
            return sid
        stage = next(s for s in self.journey_map.stages if s.id == sid)
        own_names = {normalize(stage.name).lower(), stage.id.replace("-", " ")}
        return sid if (detection.stage_phrase or "") in own_names else None

    def persona_of(
        self, normalized: str, vector: list[float], detection: Detection, *, given: str | None = None
    ) -> tuple[str | None, str | None]:
        """The persona a question is about: given, named, cued by a title word the map
        uses for one persona only, or implied clearly enough by its meaning."""
        if given:
            return given, "given"
        if detection.persona_id:
            return detection.persona_id, "named"
        cued = self.inference.cued_persona(normalized)
        if cued:
            return cued, "cued"
        sure = _sure(self.inference.personas(vector), PERSONA_MIN_PROB, PERSONA_MIN_MARGIN)
        if sure:
            return sure, "inferred"
        described = _PERSON_DESCRIBED.search(normalized)
        if described:
            # "the guy who owns the revenue number": the clause says who, the rest says what.
            clause = self.embeddings.embed_query(described.group(0))
            sure = _sure(self.inference.personas(clause), CLAUSE_MIN_PROB, CLAUSE_MIN_MARGIN)
            if sure:
                return sure, "described"
        return None, None

    def _infer_stage(
        self, stage_dense: dict[str, float], questions: list[Hit], assets: list[Hit], phase: Phase | None,
        vector: list[float], boundary: str | None = None,
    ) -> StageGuess | None:
        votes: dict[str, float] = defaultdict(float)
        for unit_id, score in stage_dense.items():
            votes[self.units[unit_id].ref_id] += VOTE_STAGE_TEXT * score
        for weight, hits in ((VOTE_QUESTIONS, questions), (VOTE_ASSETS, assets)):
            for rank, hit in enumerate(hits[:VOTERS]):
                share = weight * hit.score / (rank + 1) / len(hit.unit.stage_ids) ** 0.5
                for sid in hit.unit.stage_ids:
                    votes[sid] += share
        total = sum(votes.values())
        learned = self.inference.stages(vector)
        if total > 0 or learned:
            mixed: dict[str, float] = defaultdict(float)
            for sid, vote in votes.items():
                mixed[sid] += (1.0 - W_CLASSIFIER) * vote / (total or 1.0)
            for sid, prob in learned.items():
                mixed[sid] += W_CLASSIFIER * prob
            votes = mixed
        if not votes:
            return None
        if phase is not None:
            for sid in votes:
                if self.phases.get(sid) != phase:
                    votes[sid] *= OTHER_PHASE_FACTOR
        if boundary is not None:
            for sid in votes:
                if sid != boundary:
                    votes[sid] *= BOUNDARY_FACTOR
        ranked = sorted(votes.items(), key=lambda kv: -kv[1])
        margin = (ranked[0][1] - (ranked[1][1] if len(ranked) > 1 else 0.0)) / (ranked[0][1] or 1.0)
        return StageGuess(ranked[0][0], "inferred", round(min(1.0, 0.5 + margin), 3), tuple(sid for sid, _ in ranked[1:]))

    def _rank_questions(
        self, dense: dict[str, float], lexical: dict[str, float], stage: StageGuess | None, persona: str | None
    ) -> list[Hit]:
        hits: list[Hit] = []
        for unit_id in set(dense) | set(list(lexical)[:DENSE_QUESTIONS]):
            unit = self.units[unit_id]
            d, lex = dense.get(unit_id, 0.0), lexical.get(unit_id, 0.0)
            score = 0.75 * d + 0.25 * lex
            if stage and stage.stage_id in unit.stage_ids:
                score += STAGE_BONUS
            if persona and persona in unit.persona_ids:
                score += PERSONA_ANY_BONUS
            hits.append(Hit(unit, score, d, lex))
        return sorted(hits, key=lambda h: -h.score)

    def _rank_assets(
        self,
        dense: dict[str, float],
        lexical: dict[str, float],
        answer_strength: dict[str, float],
        stage: StageGuess | None,
        persona: str | None,
        named_stage: str | None,
    ) -> list[Hit]:
        candidates = set(dense) | {u for u, _ in sorted(lexical.items(), key=lambda kv: -kv[1])[:DENSE_ASSETS]}
        hits: list[Hit] = []
        for unit_id in candidates:
            unit = self.units[unit_id]
            if named_stage and named_stage not in unit.stage_ids:
                continue
            d, lex = dense.get(unit_id, 0.0), lexical.get(unit_id, 0.0)
            answers = max((answer_strength.get(q, 0.0) for q in unit.question_ids), default=0.0)
            score = W_DENSE * d + W_LEXICAL * lex + W_ANSWERS * answers
            reasons: list[str] = []
            if stage and stage.stage_id in unit.stage_ids:
                score += STAGE_BONUS
            if persona:
                if persona in unit.persona_ids:
                    score += PERSONA_BONUS
                elif not unit.persona_ids:
                    score += PERSONA_ANY_BONUS
                else:
                    score -= PERSONA_OTHER_PENALTY
            best_question = max(unit.question_ids, key=lambda q: answer_strength.get(q, 0.0), default=None)
            if best_question and answer_strength.get(best_question, 0.0) > 0:
                reasons.append(f"answers “{self.units['question:' + best_question].title}”")
            hits.append(Hit(unit, round(score, 4), d, lex, "; ".join(reasons)))
        return sorted(hits, key=lambda h: (-h.score, h.unit.id))


def _sure(probabilities: dict[str, float], min_prob: float, min_margin: float) -> str | None:
    """The leading class when it is this probable and this far ahead of the next."""
    ranked = sorted(probabilities.values(), reverse=True)
    if not ranked or ranked[0] < min_prob or ranked[0] - (ranked[1] if len(ranked) > 1 else 0.0) < min_margin:
        return None
    return max(probabilities, key=lambda k: probabilities[k])


def _normalised(scores: dict[str, float]) -> dict[str, float]:
    """Scale BM25 scores to 0..1 by the best one, ordered best first."""
    if not scores:
        return {}
    top = max(scores.values()) or 1.0
    return {k: v / top for k, v in sorted(scores.items(), key=lambda kv: -kv[1])}
