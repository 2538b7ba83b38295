"""Answering a question end to end: retrieve, compose (LLM optional), log."""

from __future__ import annotations

import time
from dataclasses import dataclass

from langchain_core.language_models.chat_models import BaseChatModel
from sqlalchemy.engine import Engine

from knowledge.answers import Answer, compose_answer
from knowledge.live import LiveIndex, LiveState
from knowledge.llm import answer_with_fallback
from storage.engine import session_scope
from storage.question_log import record_question


@dataclass
class Asker:
    live: LiveIndex
    engine: Engine
    chat: BaseChatModel | None = None
    top_k: int = 5

    def ask(
        self,
        question: str,
        *,
        stage_id: str | None = None,
        persona_id: str | None = None,
        channel: str | None = None,
        user: str | None = None,
        log: bool = True,
    ) -> Answer:
        started = time.perf_counter()
        def answer_from(state: LiveState) -> Answer:
            retrieval = state.retriever.retrieve(question, stage_id=stage_id, persona_id=persona_id, k=self.top_k)
            return answer_with_fallback(self.chat, retrieval, compose_answer(retrieval, state.journey_map), state.journey_map)

        answer = self.live.run(answer_from)
        answer.latency_ms = round((time.perf_counter() - started) * 1000, 2)
        if log:
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
                )
                answer.log_id = entry.id
        return answer
