"""The optional LLM path: a langchain chain grounded only in retrieved map content.

Any OpenAI-compatible API works (LLM_PROVIDER=openai with a base URL). Without one,
or when the call fails, the extractive answer stands.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from config import Settings
from knowledge.answers import Answer
from knowledge.models import JourneyMap
from knowledge.retrieval import Retrieval

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You help B2B sales reps using ONLY the company's buyer journey map excerpts given "
    "below. Answer in at most 120 words. Recommend content by its title and cite every "
    "source you use as [n] with the numbers given. If the excerpts do not answer the "
    "question, reply exactly: I don't know from the journey map. Never invent content, "
    "URLs, numbers or customer names. Never include email addresses or phone numbers."
)
UNKNOWN_MARKER = "i don't know from the journey map"

_PROMPT = ChatPromptTemplate.from_messages(
    [("system", SYSTEM_PROMPT), ("human", "Journey map excerpts:\n{context}\n\nRep's question: {question}")]
)
_CITATION = re.compile(r"\[(\d{1,2})\]")


def build_chat_model(settings: Settings) -> BaseChatModel | None:
    if not settings.llm_enabled:
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=settings.llm_model,
        api_key=settings.llm_api_key,
        base_url=settings.llm_base_url,
        timeout=settings.llm_timeout_s,
        max_retries=1,
        temperature=0,
    )


def build_context(retrieval: Retrieval, extractive: Answer, journey_map: JourneyMap) -> str:
    parts: list[str] = []
    if extractive.stage_id:
        stage = journey_map.stage(extractive.stage_id)
        parts.append(f"Stage {stage.name}: {stage.definition} Target {stage.target_days_in_stage:g} days.")
    if extractive.persona_id:
        persona = journey_map.persona(extractive.persona_id)
        parts.append(f"Stakeholder {persona.name}: {persona.background}")
    hits = {h.unit.ref_id: h for h in retrieval.assets}
    for source in extractive.sources:
        hit = hits.get(source.ref_id)
        parts.append(f"[{source.n}] {source.title} ({source.url}): {hit.unit.text if hit else source.why}")
    for question in extractive.open_questions:
        parts.append(f"Buyer question: {question}")
    return "\n".join(parts)


def llm_answer(chat: BaseChatModel, retrieval: Retrieval, extractive: Answer, journey_map: JourneyMap) -> Answer:
    """Rewrite the extractive answer with the LLM, keeping only sources it cites."""
    chain = _PROMPT | chat | StrOutputParser()
    context = build_context(retrieval, extractive, journey_map)
    text = chain.invoke({"context": context, "question": retrieval.normalized or retrieval.query}).strip()
    if UNKNOWN_MARKER in text.lower():
        return replace(extractive, text=text, answered=False, used_llm=True, sources=[])
    cited = {int(n) for n in _CITATION.findall(text)}
    sources = [s for s in extractive.sources if s.n in cited] or extractive.sources
    return replace(extractive, text=text, sources=sources, used_llm=True)


def answer_with_fallback(
    chat: BaseChatModel | None, retrieval: Retrieval, extractive: Answer, journey_map: JourneyMap
) -> Answer:
    if chat is None or not extractive.answered:
        return extractive
    try:
        return llm_answer(chat, retrieval, extractive, journey_map)
    except Exception as exc:  # the LLM is optional: any failure falls back to the map
        log.warning("LLM answer failed, using the extractive answer: %s", type(exc).__name__)
        return replace(extractive, note="The language model did not answer; this answer comes straight from the map.")
