"""The optional LLM path through langchain's init_chat_model, against local OpenAI-compatible
and Ollama servers: the real langchain clients, nothing mocked."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from langchain_core.language_models.chat_models import BaseChatModel

from config import Settings
from knowledge.answers import Answer, compose_answer
from knowledge.asking import Asker
from knowledge.llm import FALLBACK_NOTE, SYSTEM_PROMPT, answer_with_fallback, build_chat_model
from knowledge.llm_stream import MID_STREAM_NOTE, stream_answer
from tests.standins.ollama_api import MODEL as OLLAMA_MODEL
from tests.standins.ollama_api import OllamaStandIn
from tests.standins.openai_api import OpenAIStandIn, ScriptedModel

QUESTION = "CFO keeps asking about ROI, what do I send?"
KEY = "sk-test-not-a-real-key"


@pytest.fixture
def openai_standin() -> Iterator[OpenAIStandIn]:
    server = OpenAIStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def ollama_standin() -> Iterator[OllamaStandIn]:
    server = OllamaStandIn().start()
    yield server
    server.stop()


def llm_settings(sample_service: Any, **values: Any) -> Settings:
    return Settings.from_mapping({**sample_service.settings.model_dump(), **values})


@pytest.fixture(params=["openai-compatible", "ollama"])
def provider(request: pytest.FixtureRequest, sample_service: Any) -> tuple[BaseChatModel, ScriptedModel]:
    """A chat model built from settings for each provider, and the stand-in it talks to."""
    if request.param == "ollama":
        server: Any = request.getfixturevalue("ollama_standin")
        settings = llm_settings(sample_service, llm_provider="ollama", llm_model=OLLAMA_MODEL,
                                llm_base_url=server.base_url, llm_timeout_s=1)
    else:
        server = request.getfixturevalue("openai_standin")
        settings = llm_settings(sample_service, llm_provider="openai-compatible", llm_model="stand-in-model",
                                llm_api_key=KEY, llm_base_url=server.base_url, llm_timeout_s=1)
    chat = build_chat_model(settings)
    assert chat is not None
    return chat, server


@pytest.fixture
def llm_asker(sample_service: Any, openai_standin: OpenAIStandIn) -> Asker:
    settings = llm_settings(sample_service, llm_provider="openai", llm_model="stand-in-model", llm_api_key=KEY,
                            llm_base_url=openai_standin.base_url, llm_timeout_s=5)
    chat = build_chat_model(settings)
    assert chat is not None
    return Asker(sample_service.live, sample_service.engine, chat)


@pytest.fixture
def streamer(sample_service: Any) -> Callable[..., list[str | Answer]]:
    """All events of stream_answer for a question, as the bot would consume them."""

    def run(chat: BaseChatModel | None, question: str = QUESTION, timeout_s: float = 1.0) -> list[str | Answer]:
        state = sample_service.live.current()
        retrieval = state.retriever.retrieve(question, k=5)
        extractive = compose_answer(retrieval, state.journey_map)
        return list(stream_answer(chat, retrieval, extractive, state.journey_map, timeout_s=timeout_s))

    return run


# --- building the model from settings ---


def test_openai_compatible_is_the_openai_client_at_the_base_url(sample_service: Any, openai_standin: OpenAIStandIn) -> None:
    from langchain_openai import ChatOpenAI

    chat = build_chat_model(llm_settings(sample_service, llm_provider="openai-compatible", llm_model="m",
                                         llm_api_key=KEY, llm_base_url=openai_standin.base_url, llm_timeout_s=7))
    assert isinstance(chat, ChatOpenAI)
    assert chat.openai_api_base == openai_standin.base_url and chat.request_timeout == 7 and chat.max_retries == 1
    key: Any = chat.openai_api_key
    assert key.get_secret_value() == KEY
    assert KEY not in repr(chat)


def test_openai_compatible_without_a_key_still_starts(sample_service: Any, openai_standin: OpenAIStandIn) -> None:
    chat = build_chat_model(llm_settings(sample_service, llm_provider="openai-compatible", llm_model="m",
                                         llm_base_url=openai_standin.base_url))
    assert chat is not None and chat.invoke("hi").content
    assert openai_standin.auth_headers[-1] == "Bearer not-needed"


def test_ollama_gets_base_url_and_request_timeout(sample_service: Any, ollama_standin: OllamaStandIn) -> None:
    from langchain_ollama import ChatOllama

    chat = build_chat_model(llm_settings(sample_service, llm_provider="ollama", llm_model=OLLAMA_MODEL,
                                         llm_base_url=ollama_standin.base_url, llm_timeout_s=3))
    assert isinstance(chat, ChatOllama) and chat.base_url == ollama_standin.base_url
    assert chat._client._client.timeout.read == 3  # the httpx client under the ollama client
    assert chat.invoke("hi").content
    assert ollama_standin.requests[-1]["path"] == "/api/chat" and ollama_standin.requests[-1]["body"]["model"] == OLLAMA_MODEL


def test_anthropic_gets_base_url_key_timeout_and_retries(sample_service: Any) -> None:
    pytest.importorskip("langchain_anthropic", reason="langchain-anthropic is in the llm extra only")
    chat: Any = build_chat_model(llm_settings(sample_service, llm_provider="anthropic", llm_model="claude-haiku-4-5",
                                              llm_api_key=KEY, llm_base_url="http://127.0.0.1:9/", llm_timeout_s=4))
    assert type(chat).__name__ == "ChatAnthropic"
    assert chat.anthropic_api_url == "http://127.0.0.1:9/" and chat.default_request_timeout == 4 and chat.max_retries == 1
    assert chat.anthropic_api_key.get_secret_value() == KEY


def test_no_provider_means_no_model(sample_service: Any) -> None:
    assert build_chat_model(llm_settings(sample_service, llm_provider="none")) is None


def test_a_missing_integration_package_names_what_to_install(sample_service: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "langchain_ollama", None)  # as if not installed
    with pytest.raises(ValueError,
                       match=r"^JOURNEYBOT_LLM_PROVIDER=ollama needs the langchain-ollama package: pip install langchain-ollama"):
        build_chat_model(llm_settings(sample_service, llm_provider="ollama"))


def test_settings_a_provider_cannot_do_without_are_named(sample_service: Any) -> None:
    with pytest.raises(ValueError, match="JOURNEYBOT_LLM_BASE_URL"):
        build_chat_model(llm_settings(sample_service, llm_provider="openai-compatible"))
    with pytest.raises(ValueError, match="JOURNEYBOT_LLM_API_KEY"):
        build_chat_model(llm_settings(sample_service, llm_provider="openai"))


# --- the non-streaming answer (CLI) ---


def test_grounded_answer_cites_retrieved_sources(llm_asker: Asker, openai_standin: OpenAIStandIn) -> None:
    answer = llm_asker.ask(QUESTION)
    assert answer.used_llm and answer.answered
    request = openai_standin.requests[-1]["body"]
    assert request["model"] == "stand-in-model"
    system, human = request["messages"][0]["content"], request["messages"][1]["content"]
    assert system == SYSTEM_PROMPT
    assert "CFO keeps asking about ROI" in human and "[1]" in human
    assert openai_standin.auth_headers[-1] == f"Bearer {KEY}"
    assert len(answer.sources) == 1 and answer.sources[0].n == 1
    assert answer.sources[0].title in answer.text and "[1]" in answer.text


def test_model_saying_it_does_not_know_is_not_an_answer(llm_asker: Asker, openai_standin: OpenAIStandIn) -> None:
    openai_standin.mode = "unknown"
    answer = llm_asker.ask(QUESTION)
    assert answer.used_llm and not answer.answered and not answer.sources


def test_llm_failure_falls_back_to_the_extractive_answer(llm_asker: Asker, openai_standin: OpenAIStandIn) -> None:
    openai_standin.mode = "error"
    answer = llm_asker.ask(QUESTION)
    assert not answer.used_llm and answer.answered and answer.sources
    assert "language model did not answer" in answer.note
    assert openai_standin.requests, "the LLM must have been tried"


def test_off_topic_questions_never_reach_the_llm(llm_asker: Asker, openai_standin: OpenAIStandIn) -> None:
    answer = llm_asker.ask("what's a good recipe for banana bread?")
    assert not answer.answered and not openai_standin.requests


def test_non_streaming_answer_for_each_provider(provider: tuple[BaseChatModel, ScriptedModel], sample_service: Any) -> None:
    chat, _server = provider
    state = sample_service.live.current()
    retrieval = state.retriever.retrieve(QUESTION, k=5)
    answer = answer_with_fallback(chat, retrieval, compose_answer(retrieval, state.journey_map), state.journey_map)
    assert answer.used_llm and answer.answered and [s.n for s in answer.sources] == [1]


# --- streaming ---


def _split(events: list[str | Answer]) -> tuple[list[str], Answer]:
    assert isinstance(events[-1], Answer) and sum(isinstance(e, Answer) for e in events) == 1
    return [e for e in events if isinstance(e, str) and e], events[-1]


def test_streamed_answer_comes_in_deltas_then_the_cited_answer(
    provider: tuple[BaseChatModel, ScriptedModel], streamer: Callable[..., list[str | Answer]]
) -> None:
    chat, server = provider
    deltas, answer = _split(streamer(chat))
    assert len(deltas) >= 4
    assert answer.used_llm and answer.answered and answer.text == "".join(deltas).strip()
    assert [s.n for s in answer.sources] == [1] and answer.sources[0].title in answer.text
    body = server.requests[-1]["body"]
    assert body["stream"] is True and body["messages"][0]["content"] == SYSTEM_PROMPT


def test_streamed_i_dont_know_is_no_answer(provider: tuple[BaseChatModel, ScriptedModel], streamer: Callable[...,
                                                                                                             list[str | Answer]]) -> None:
    chat, server = provider
    server.mode = "unknown"
    deltas, answer = _split(streamer(chat))
    assert deltas and answer.used_llm and not answer.answered and not answer.sources


def test_a_stalled_model_falls_back_within_the_timeout(
    provider: tuple[BaseChatModel, ScriptedModel], streamer: Callable[..., list[str | Answer]]
) -> None:
    chat, server = provider
    server.mode = "stall"
    started = time.monotonic()
    deltas, answer = _split(streamer(chat, timeout_s=1.0))
    assert time.monotonic() - started < 1.8
    assert not deltas and not answer.used_llm and answer.answered and answer.sources and answer.note == FALLBACK_NOTE


def test_a_failure_before_the_first_chunk_shows_no_error(
    provider: tuple[BaseChatModel, ScriptedModel], streamer: Callable[..., list[str | Answer]]
) -> None:
    chat, server = provider
    server.mode = "error"
    deltas, answer = _split(streamer(chat))
    assert not deltas and not answer.used_llm and answer.answered and answer.note == FALLBACK_NOTE


def test_a_failure_mid_stream_ends_in_the_extractive_answer(
    provider: tuple[BaseChatModel, ScriptedModel], streamer: Callable[..., list[str | Answer]]
) -> None:
    chat, server = provider
    server.mode = "fail_mid_stream"
    deltas, answer = _split(streamer(chat))
    assert len(deltas) == server.fail_after_tokens
    assert not answer.used_llm and answer.answered and answer.note == MID_STREAM_NOTE
    assert answer.text != "".join(deltas).strip(), "the consumer must see that the streamed text is replaced"


def test_slow_tokens_are_not_a_stall(provider: tuple[BaseChatModel, ScriptedModel], streamer: Callable[..., list[str | Answer]]) -> None:
    chat, server = provider
    server.token_delay_s = 0.7  # each gap under the 1 s timeout, the whole reply well over it
    events = streamer(chat, timeout_s=1.0)
    deltas, answer = _split(events)
    assert answer.used_llm and "" in events, "heartbeats come while the model is silent"


def test_without_a_model_only_the_extractive_answer_comes(streamer: Callable[..., list[str | Answer]]) -> None:
    events = streamer(None)
    assert len(events) == 1 and isinstance(events[0], Answer) and not events[0].used_llm
