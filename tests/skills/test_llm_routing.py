"""Tool-calling routing with the real langchain clients against local OpenAI-compatible and
Ollama servers that call the tool each test chooses."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models.chat_models import BaseChatModel

from config import Settings
from knowledge.llm import build_chat_model
from skills.builtin import default_registry
from skills.llm_routing import ROUTING_PROMPT, LlmRoute, registry_tools, route_with_llm, skill_tool
from skills.registry import Registry
from tests.standins.ollama_api import MODEL as OLLAMA_MODEL
from tests.standins.ollama_api import OllamaStandIn
from tests.standins.openai_api import OpenAIStandIn, ScriptedModel


@pytest.fixture(scope="module")
def registry() -> Registry:
    return default_registry()


@pytest.fixture(params=["openai-compatible", "ollama"])
def llm(request: pytest.FixtureRequest) -> Iterator[tuple[BaseChatModel, ScriptedModel]]:
    server: Any = (OllamaStandIn() if request.param == "ollama" else OpenAIStandIn()).start()
    values: dict[str, Any] = {"llm_provider": request.param, "llm_base_url": server.base_url, "llm_timeout_s": 1}
    values["llm_model"] = OLLAMA_MODEL if request.param == "ollama" else "stand-in-model"
    chat = build_chat_model(Settings.from_mapping(values))
    assert chat is not None
    yield chat, server
    server.stop()


def _sent_tools(server: ScriptedModel) -> list[dict[str, Any]]:
    return server.requests[-1]["body"]["tools"]


def test_each_skill_is_a_tool_with_a_json_schema_of_its_args(registry: Registry) -> None:
    tools = {t["function"]["name"]: t["function"] for t in registry_tools(registry)}
    assert set(tools) == set(registry.skills)
    assert tools["account"]["description"] == registry.get("account").help
    account = tools["account"]["parameters"]
    assert account["required"] == ["account"] and account["properties"]["account"]["type"] == "string"
    gaps = tools["gaps"]["parameters"]["properties"]["stale_months"]
    assert gaps["type"] == "integer" and gaps["default"] == 12
    severity = tools["churn"]["parameters"]["properties"]["min_severity"]
    assert severity["type"] == "string" and severity["enum"] == list(registry.get("churn").args[0].choices)


def test_every_arg_kind_maps_to_its_json_type() -> None:
    from skills.registry import Arg, Skill

    skill = Skill("x", "help", lambda ctx, **kw: None, args=(  # type: ignore[arg-type]
        Arg("t", "text", required=True), Arg("i", "int", kind="int"), Arg("f", "float", kind="float"),
        Arg("b", "flag", kind="flag"), Arg("c", "choice", kind="choice", choices=("a", "b"))))
    props = skill_tool(skill)["function"]["parameters"]["properties"]
    assert {k: v["type"] for k, v in props.items()} == {"t": "string", "i": "integer", "f": "number", "b": "boolean", "c": "string"}
    assert props["c"]["enum"] == ["a", "b"]


def test_the_model_picks_the_tool_with_typed_args(llm: tuple[BaseChatModel, ScriptedModel], registry: Registry) -> None:
    chat, server = llm
    server.tool_choice = ("account", {"account": "Northwind"})
    assert route_with_llm(chat, registry, "how warm is Northwind these days?", timeout_s=2) == LlmRoute("account", {"account": "Northwind"})
    body = server.requests[-1]["body"]
    assert body["messages"][0]["content"] == ROUTING_PROMPT and body["messages"][1]["content"] == "how warm is Northwind these days?"
    assert {t["function"]["name"] for t in _sent_tools(server)} == set(registry.skills)


def test_numbers_and_choices_are_typed_and_checked(llm: tuple[BaseChatModel, ScriptedModel], registry: Registry) -> None:
    chat, server = llm
    server.tool_choice = ("gaps", {"stale_months": 6})
    assert route_with_llm(chat, registry, "stale stuff older than 6 months?", timeout_s=2) == LlmRoute("gaps", {"stale_months": 6})
    server.tool_choice = ("gaps", {"stale_months": "9"})  # small models send numbers as strings
    assert route_with_llm(chat, registry, "gaps, 9 months", timeout_s=2) == LlmRoute("gaps", {"stale_months": 9})
    server.tool_choice = ("churn", {"min_severity": "high", "owner": ""})
    assert route_with_llm(chat, registry, "high churn risks", timeout_s=2) == LlmRoute("churn", {"min_severity": "high"})


@pytest.mark.parametrize(
    "choice",
    [
        None,  # no tool call: the model just answers
        ("launch_rockets", {}),  # not a skill
        ("gaps", {"stale_months": "a while"}),  # not an integer
        ("churn", {"min_severity": "apocalyptic"}),  # not one of the choices
        ("account", {}),  # the required argument is missing
        ("account", {"name": "Northwind"}),  # not an argument of account
    ],
)
def test_anything_off_is_no_route(llm: tuple[BaseChatModel, ScriptedModel], registry: Registry, choice: Any) -> None:
    chat, server = llm
    server.tool_choice = choice
    assert route_with_llm(chat, registry, "how ready is Northwind?", timeout_s=2) is None
    assert server.requests, "the model must have been asked"


def test_a_server_error_is_no_route(llm: tuple[BaseChatModel, ScriptedModel], registry: Registry, caplog: pytest.LogCaptureFixture) -> None:
    chat, server = llm
    server.mode = "error"
    server.tool_choice = ("account", {"account": "Northwind"})
    assert route_with_llm(chat, registry, "how ready is Northwind?", timeout_s=2) is None
    assert any("LLM routing failed" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)


def test_a_stalled_model_is_no_route_within_the_timeout(llm: tuple[BaseChatModel, ScriptedModel], registry: Registry) -> None:
    chat, server = llm
    server.mode = "stall"
    server.tool_choice = ("account", {"account": "Northwind"})
    started = time.monotonic()
    assert route_with_llm(chat, registry, "how ready is Northwind?", timeout_s=0.5) is None
    assert time.monotonic() - started < 1.0


def test_stage_and_persona_are_offered_as_the_maps_values(registry: Registry, sample_service: Any) -> None:
    from knowledge.catalog import argument_values

    journey_map = sample_service.live.current().journey_map
    tools = {t["function"]["name"]: t["function"] for t in registry_tools(registry, argument_values(journey_map))}
    stage = tools["ask"]["parameters"]["properties"]["stage"]
    assert stage["enum"] == [s.id for s in journey_map.stages]
    decision = journey_map.stage("decision")
    assert f"decision = {decision.name}: {decision.definition.split('. ')[0]}" in stage["description"]
    persona = tools["ask"]["parameters"]["properties"]["persona"]
    assert persona["enum"] == [p.id for p in journey_map.personas] and "(financial gatekeeper)" in persona["description"]
    assert "enum" not in tools["ask"]["parameters"]["properties"]["question"]  # a free text stays free
    assert "enum" not in registry_tools(registry)[0]["function"]["parameters"]["properties"].get("stage", {})


def test_a_stage_the_map_lacks_is_left_to_the_offline_reading(
    llm: tuple[BaseChatModel, ScriptedModel], registry: Registry, sample_service: Any
) -> None:
    from knowledge.catalog import argument_values

    chat, server = llm
    values = argument_values(sample_service.live.current().journey_map)
    text = "the CFO wants a total cost of ownership number before signing"
    server.tool_choice = ("ask", {"question": text, "stage": "decision", "persona": "finance"})
    assert route_with_llm(chat, registry, text, timeout_s=2, values=values) == LlmRoute(
        "ask", {"question": text, "stage": "decision", "persona": "finance"})
    sent = {t["function"]["name"]: t["function"] for t in _sent_tools(server)}
    assert "decision" in sent["ask"]["parameters"]["properties"]["stage"]["enum"]
    server.tool_choice = ("ask", {"question": text, "stage": "closing", "persona": "finance"})
    assert route_with_llm(chat, registry, text, timeout_s=2, values=values) == LlmRoute(
        "ask", {"question": text, "persona": "finance"})
