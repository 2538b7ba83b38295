"""Answers as structured results (text, stage, persona, sources, confidence), composed
extractively from what retrieval found. Renderers (Slack, CLI) format them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from knowledge.models import JourneyMap

if TYPE_CHECKING:
    from knowledge.language import LanguageCheck
    from knowledge.retrieval import Hit, Retrieval

# Cosine similarity of the best unit under which the map is taken not to cover the
# question (unrelated sentences score about 0.0-0.15 with MiniLM, related ones 0.4+).
MIN_RELEVANCE = 0.30
ANSWER_ASSETS = 3
OPEN_QUESTIONS = 3
OTHER_STAGES = 3  # an inferred stage comes with this many likeliest others, one click away


@dataclass(frozen=True)
class Source:
    n: int
    kind: str
    ref_id: str
    title: str
    url: str
    why: str = ""
    score: float = 0.0


@dataclass(frozen=True)
class StageOption:
    id: str
    name: str


@dataclass
class Answer:
    question: str
    text: str
    answered: bool
    confidence: float
    stage_id: str | None = None
    stage_name: str | None = None
    stage_how: str | None = None
    persona_id: str | None = None
    persona_name: str | None = None
    sources: list[Source] = field(default_factory=list)
    open_questions: list[str] = field(default_factory=list)
    used_llm: bool = False
    note: str = ""
    latency_ms: float = 0.0
    log_id: int | None = None  # the question-log entry, for feedback buttons
    language: str | None = None  # a question not in English: its ISO 639-1 code ("und": unnamed)
    # An inferred stage may be wrong: the next likeliest stages, for answering again in one of them.
    other_stages: list[StageOption] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def thread_facts(self) -> dict[str, str | None]:
        return {"stage_id": self.stage_id, "persona_id": self.persona_id}


def compose_answer(retrieval: Retrieval, journey_map: JourneyMap, *, k: int = ANSWER_ASSETS) -> Answer:
    stage = journey_map.stage(retrieval.stage.stage_id) if retrieval.stage else None
    persona = journey_map.persona(retrieval.persona_id) if retrieval.persona_id else None
    named = retrieval.stage is not None and retrieval.stage.how != "inferred"
    if retrieval.top_dense < MIN_RELEVANCE and not named and persona is None:
        return Answer(
            question=retrieval.query,
            text=(
                "The journey map does not cover that question. Ask about a stage (e.g. "
                "“what does Consideration mean?”), a stakeholder (“what matters to the CFO?”) "
                "or the content for a deal situation."
            ),
            answered=False,
            confidence=round(max(retrieval.top_dense, 0.0), 3),
        )
    assets = retrieval.assets[:k]
    sources = [_source(i + 1, hit) for i, hit in enumerate(assets)]
    open_questions = [h.unit.title for h in retrieval.questions if stage is None or stage.id in h.unit.stage_ids][
        :OPEN_QUESTIONS
    ]
    lines: list[str] = []
    if stage is not None:
        lines.append(
            f"{stage.name} (owned by {stage.owner_team.value.replace('_', ' ')}, target "
            f"{stage.target_days_in_stage:g} days in stage): {stage.definition}"
        )
    if sources:
        audience = f" for {persona.name}" if persona else ""
        lines.append(f"Best fits{audience}:")
        for source in sources:
            why = f" — {source.why}" if source.why else ""
            lines.append(f"[{source.n}] {source.title}{why}")
    else:
        lines.append("No content asset in the map fits this yet: that is a content gap worth reporting.")
    if open_questions:
        lines.append("Buyer questions to get ahead of:")
        lines.extend(f"• {q}" for q in open_questions)
    stage_conf = retrieval.stage.confidence if retrieval.stage else 0.0
    confidence = round(min(1.0, 0.5 * stage_conf + 0.5 * min(1.0, retrieval.top_dense / 0.6)), 3)
    return Answer(
        question=retrieval.query,
        text="\n".join(lines),
        answered=True,
        confidence=confidence,
        stage_id=stage.id if stage else None,
        stage_name=stage.name if stage else None,
        stage_how=retrieval.stage.how if retrieval.stage else None,
        persona_id=persona.id if persona else None,
        persona_name=persona.name if persona else None,
        sources=sources,
        open_questions=open_questions,
        other_stages=[StageOption(sid, journey_map.stage(sid).name)
                      for sid in (retrieval.stage.runners_up if retrieval.stage else ())[:OTHER_STAGES]],
    )


def not_english_answer(question: str, check: LanguageCheck) -> Answer:
    """What a question in another language gets instead of retrieval: the offline model
    reads English only, so anything it retrieved would be guesswork."""
    looks = f"Your question looks like {check.language_name}." if check.language_name else (
        "Your question does not look like English."
    )
    return Answer(
        question=question,
        text=(
            f"{looks} I read English only: the offline model that searches the journey map was "
            "trained on English text, so an answer would be guesswork. Please ask again in English."
        ),
        answered=False,
        confidence=0.0,
        language=check.language or "und",
    )


def _source(n: int, hit: Hit) -> Source:
    return Source(n, hit.unit.kind, hit.unit.ref_id, hit.unit.title, hit.unit.url, hit.why, round(hit.score, 4))
