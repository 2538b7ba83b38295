"""Answering a question end to end: retrieve, compose (LLM optional), log. A question in
another language gets a note instead: the offline embedding model reads English only."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from knowledge.answers import Answer, compose_answer, not_english_answer
from knowledge.errors import InputError
from knowledge.language import LanguageDetector, detector_for
from knowledge.live import LiveIndex, LiveState
from storage.engine import session_scope
from storage.question_log import record_question

if TYPE_CHECKING:  # langchain's chat models take half a second to import: only with an LLM
    from langchain_core.language_models.chat_models import BaseChatModel

logger = logging.getLogger(__name__)  # not `log`: ask() has a parameter of that name


@dataclass
class Asker:
    live: LiveIndex
    engine: Engine
    chat: BaseChatModel | None = None
    top_k: int = 5
    language: LanguageDetector | None = None  # default: the one for the embedding model's vocabulary

    def ask(
        self,
        question: str,
        *,
        stage_id: str | None = None,
        persona_id: str | None = None,
        channel: str | None = None,
        user: str | None = None,
        source: str | None = None,
        log: bool = True,
    ) -> Answer:
        """Answer `question`; `source` says where it was asked (slack, cli, ...) for the gap report.
        A blank question is refused, never logged (the gap audit would list it)."""
        if not question.strip():
            raise InputError("ask needs a question, e.g. “CFO keeps asking about ROI, what do I send?”")
        started = time.perf_counter()
        def answer_from(state: LiveState) -> Answer:
            retrieval = state.retriever.retrieve(question, stage_id=stage_id, persona_id=persona_id, k=self.top_k)
            extractive = compose_answer(retrieval, state.journey_map)
            if self.chat is None:
                return extractive
            from knowledge.llm import answer_with_fallback

            return answer_with_fallback(self.chat, retrieval, extractive, state.journey_map)

        check = (self.language or detector_for(self.live.embeddings.model_dir)).check(question)
        if check.english:
            answer = self.live.run(answer_from)
        else:
            # Not logged as an unanswered question: the gap audit would count it as a map gap.
            logger.info("question not in English (%s, %.2f): answered with the English-only note",
                     check.language or "unnamed", check.confidence)
            answer = not_english_answer(question, check)
        answer.latency_ms = round((time.perf_counter() - started) * 1000, 2)
        if log and check.english:
            with session_scope(self.engine) as session:
                entry = record_question(
                    session,
                    question=question,
                    stage_id=answer.stage_id,
                    persona_id=answer.persona_id,
                    top_sources=[s.ref_id for s in answer.sources],
                    confidence=answer.confidence,
                    answered=answer.answered,
                    latency_ms=answer.latency_ms,
                    channel=channel,
                    user=user,
                    source=source,
                )
                answer.log_id = entry.id
        return answer
