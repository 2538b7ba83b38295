"""The optional LLM path through langchain, against a local OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from config import Settings
from knowledge.asking import Asker
from knowledge.llm import SYSTEM_PROMPT, build_chat_model
from tests.standins.openai_api import OpenAIStandIn


@pytest.fixture
def openai_standin() -> Iterator[OpenAIStandIn]:
    server = OpenAIStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def llm_asker(sample_service: Any, openai_standin: OpenAIStandIn) -> Asker:
    settings = Settings.from_mapping(
        {
            **sample_service.settings.model_dump(),
            "llm_provider": "openai",
            "llm_model": "stand-in-model",
            "llm_api_key": "sk-test-not-a-real-key",
            "llm_base_url": openai_standin.base_url,
            "llm_timeout_s": 5,
        }
    )
    chat = build_chat_model(settings)
    assert chat is not None
    return Asker(sample_service.live, sample_service.engine, chat)


def test_grounded_answer_cites_retrieved_sources(llm_asker: Asker, openai_standin: OpenAIStandIn) -> None:
    answer = llm_asker.ask("CFO keeps asking about ROI, what do I send?")
    assert answer.used_llm and answer.answered
    request = openai_standin.requests[-1]["body"]
    assert request["model"] == "stand-in-model"
    system, human = request["messages"][0]["content"], request["messages"][1]["content"]
    assert system == SYSTEM_PROMPT
    assert "CFO keeps asking about ROI" in human and "[1]" in human
    assert openai_standin.auth_headers[-1] == "Bearer sk-test-not-a-real-key"
    assert len(answer.sources) == 1 and answer.sources[0].n == 1
    assert answer.sources[0].title in answer.text and "[1]" in answer.text


def test_model_saying_it_does_not_know_is_not_an_answer(llm_asker: Asker, openai_standin: OpenAIStandIn) -> None:
    openai_standin.mode = "unknown"
    answer = llm_asker.ask("CFO keeps asking about ROI, what do I send?")
    assert answer.used_llm and not answer.answered and not answer.sources


def test_llm_failure_falls_back_to_the_extractive_answer(llm_asker: Asker, openai_standin: OpenAIStandIn) -> None:
    openai_standin.mode = "error"
    answer = llm_asker.ask("CFO keeps asking about ROI, what do I send?")
    assert not answer.used_llm and answer.answered and answer.sources
    assert "language model did not answer" in answer.note
    assert openai_standin.requests, "the LLM must have been tried"


def test_off_topic_questions_never_reach_the_llm(llm_asker: Asker, openai_standin: OpenAIStandIn) -> None:
    answer = llm_asker.ask("what's a good recipe for banana bread?")
    assert not answer.answered and not openai_standin.requests
