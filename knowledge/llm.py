"""The optional LLM path: a langchain chain grounded only in retrieved map content.

The chat model comes from langchain's `init_chat_model`, so OpenAI, any OpenAI-compatible
API (a base URL), Anthropic and Ollama all work through the same code. Without one, or
when the call fails, the extractive answer stands.
"""

from __future__ import annotations

import importlib
import logging
import re
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

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
FALLBACK_NOTE = "The language model did not answer; this answer comes straight from the map."

_PROMPT = ChatPromptTemplate.from_messages(
    [("system", SYSTEM_PROMPT), ("human", "Journey map excerpts:\n{context}\n\nRep's question: {question}")]
)
_CITATION = re.compile(r"\[(\d{1,2})\]")

# JOURNEYBOT_LLM_PROVIDER -> (init_chat_model provider, module, package to install)
PROVIDERS: dict[str, tuple[str, str, str]] = {
    "openai": ("openai", "langchain_openai", "langchain-openai"),
    "openai-compatible": ("openai", "langchain_openai", "langchain-openai"),
    "anthropic": ("anthropic", "langchain_anthropic", "langchain-anthropic"),
    "ollama": ("ollama", "langchain_ollama", "langchain-ollama"),
}
# Local OpenAI-compatible servers (vLLM, LM Studio, llama.cpp) want no key, but the
# openai client refuses to start without one.
NO_KEY_PLACEHOLDER = "not-needed"


def build_chat_model(settings: Settings) -> BaseChatModel | None:
    """The configured chat model, or None without one. A missing integration package or
    a setting the provider cannot do without raises ValueError with one line saying what
    to install or set."""
    if not settings.llm_enabled:
        return None
    provider, module, package = PROVIDERS[settings.llm_provider]
    for needed, pip_name in (("langchain.chat_models", "langchain"), (module, package)):
        try:
            importlib.import_module(needed)
        except ImportError:
            raise ValueError(
                f"JOURNEYBOT_LLM_PROVIDER={settings.llm_provider} needs the {pip_name} package: "
                f"pip install {pip_name} (or journeybot[llm])"
            ) from None
    from langchain.chat_models import init_chat_model

    chat: BaseChatModel = init_chat_model(settings.llm_model, model_provider=provider, **_provider_kwargs(settings))
    log.info("LLM: %s model %s at %s", settings.llm_provider, settings.llm_model, _host(settings.llm_base_url))
    return chat


def _host(url: str | None) -> str:
    """Where the LLM is, for logs: scheme, host and port only (a URL may carry userinfo)."""
    if not url:
        return "the provider's default URL"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def _provider_kwargs(settings: Settings) -> dict[str, Any]:
    """Base URL, key and timeout in the form each langchain integration expects."""
    key = settings.llm_api_key
    name = settings.llm_provider
    if name == "ollama":
        kwargs: dict[str, Any] = {"temperature": 0, "client_kwargs": {"timeout": settings.llm_timeout_s}}
        if settings.llm_base_url:
            kwargs["base_url"] = settings.llm_base_url
        if key is not None:  # an Ollama behind an authenticating proxy
            kwargs["client_kwargs"]["headers"] = {"Authorization": f"Bearer {key.get_secret_value()}"}
        return kwargs
    if name == "openai-compatible" and not settings.llm_base_url:
        raise ValueError("JOURNEYBOT_LLM_PROVIDER=openai-compatible needs JOURNEYBOT_LLM_BASE_URL (e.g. http://localhost:8000/v1)")
    if key is None and (name == "anthropic" or not settings.llm_base_url):
        raise ValueError(f"JOURNEYBOT_LLM_PROVIDER={name} needs JOURNEYBOT_LLM_API_KEY")
    kwargs = {"timeout": settings.llm_timeout_s, "max_retries": 1, "temperature": 0}
    kwargs["api_key"] = key if key is not None else NO_KEY_PLACEHOLDER
    if settings.llm_base_url:
        kwargs["base_url"] = settings.llm_base_url
    return kwargs


def answer_chain(chat: BaseChatModel) -> Runnable[dict[str, str], str]:
    """The grounded prompt, the model, plain text out: one chain for invoke and stream."""
    return _PROMPT | chat | StrOutputParser()


def chain_inputs(retrieval: Retrieval, extractive: Answer, journey_map: JourneyMap) -> dict[str, str]:
    return {"context": build_context(retrieval, extractive, journey_map), "question": retrieval.normalized or retrieval.query}


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


def grounded_answer(text: str, extractive: Answer) -> Answer:
    """The model's text as the answer: "I don't know" is no answer (and no sources);
    otherwise only the sources it cites stay (all of them when it cites none)."""
    text = text.strip()
    if UNKNOWN_MARKER in text.lower():
        return replace(extractive, text=text, answered=False, used_llm=True, sources=[])
    cited = {int(n) for n in _CITATION.findall(text)}
    sources = [s for s in extractive.sources if s.n in cited] or extractive.sources
    return replace(extractive, text=text, sources=sources, used_llm=True)


def llm_answer(chat: BaseChatModel, retrieval: Retrieval, extractive: Answer, journey_map: JourneyMap) -> Answer:
    """Rewrite the extractive answer with the LLM, keeping only sources it cites."""
    text = answer_chain(chat).invoke(chain_inputs(retrieval, extractive, journey_map))
    return grounded_answer(text, extractive)


def answer_with_fallback(
    chat: BaseChatModel | None, retrieval: Retrieval, extractive: Answer, journey_map: JourneyMap
) -> Answer:
    if chat is None or not extractive.answered:
        return extractive
    try:
        return llm_answer(chat, retrieval, extractive, journey_map)
    except Exception as exc:  # the LLM is optional: any failure falls back to the map
        log.warning("LLM answer failed, using the extractive answer: %s", type(exc).__name__)
        return replace(extractive, note=FALLBACK_NOTE)
