"""Answering a question end to end: retrieve, compose (LLM optional), log. A question in
another language gets a note instead: the offline embedding model reads English only."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
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

    from knowledge.llm_stream import AnswerEvent
    from knowledge.retrieval import Retrieval

logger = logging.getLogger(__name__)  # not `log`: ask() has a parameter of that name


@dataclass
class Asker:
    live: LiveIndex
    engine: Engine
    chat: BaseChatModel | None = None
    top_k: int = 5
    language: LanguageDetector | None = None  # default: the one for the embedding model's vocabulary
    llm_timeout_s: float = 20.0

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
        _refuse_blank(question)
        started = time.perf_counter()

        def answer_from(state: LiveState) -> Answer:
            retrieval, extractive = self._extractive(state, question, stage_id, persona_id)
            if self.chat is None:
                return extractive
            from knowledge.llm import answer_with_fallback

            return answer_with_fallback(self.chat, retrieval, extractive, state.journey_map)

        check = self._language().check(question)
        if check.english:
            answer = self.live.run(answer_from)
        else:
            # Not logged as an unanswered question: the gap audit would count it as a map gap.
            logger.info("question not in English (%s, %.2f): answered with the English-only note",
                     check.language or "unnamed", check.confidence)
            answer = not_english_answer(question, check)
        answer.latency_ms = round((time.perf_counter() - started) * 1000, 2)
        if log and check.english:
            self._log(answer, channel=channel, user=user, source=source)
        return answer

    def stream(
        self,
        question: str,
        *,
        stage_id: str | None = None,
        persona_id: str | None = None,
        channel: str | None = None,
        user: str | None = None,
        source: str | None = None,
    ) -> Iterator[AnswerEvent]:
        """As `ask`, but the model's text as it writes it (str deltas, "" a heartbeat), then
        the final Answer, logged like any other. Without a model, or for a question in
        another language, only the final Answer comes."""
        _refuse_blank(question)
        if self.chat is None or not self._language().check(question).english:
            yield self.ask(question, stage_id=stage_id, persona_id=persona_id, channel=channel, user=user,
                           source=source)
            return
        from knowledge.llm_stream import stream_answer

        started = time.perf_counter()
        retrieval, extractive, journey_map = self.live.run(
            lambda state: (*self._extractive(state, question, stage_id, persona_id), state.journey_map))
        for event in stream_answer(self.chat, retrieval, extractive, journey_map, timeout_s=self.llm_timeout_s):
            if isinstance(event, Answer):
                event.latency_ms = round((time.perf_counter() - started) * 1000, 2)
                self._log(event, channel=channel, user=user, source=source)
            yield event

    def _extractive(self, state: LiveState, question: str, stage_id: str | None,
                    persona_id: str | None) -> tuple[Retrieval, Answer]:
        """What the map answers: the retrieval and the answer composed from it alone."""
        retrieval = state.retriever.retrieve(question, stage_id=stage_id, persona_id=persona_id, k=self.top_k)
        return retrieval, compose_answer(retrieval, state.journey_map)

    def _language(self) -> LanguageDetector:
        return self.language or detector_for(self.live.embeddings.model_dir)

    def _log(self, answer: Answer, *, channel: str | None, user: str | None, source: str | None) -> None:
        with session_scope(self.engine) as session:
            entry = record_question(
                session,
                question=answer.question,
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


def _refuse_blank(question: str) -> None:
    if not question.strip():
        raise InputError("ask needs a question, e.g. “CFO keeps asking about ROI, what do I send?”")
