"""Routing with an LLM's tool calling: each registry skill is a tool (its help as the
description, its `Arg`s as a JSON schema), and the model picks one for a free-text
message. Anything off (no tool call, an unknown skill, arguments that do not fit the
declarations, an error, a timeout) gives None, so the deterministic router decides.
"""

from __future__ import annotations

import contextvars
import logging
import math
import threading
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from skills.registry import Arg, Registry, Skill, SkillInputError, convert_arg, missing_required

log = logging.getLogger(__name__)

ROUTING_PROMPT = (
    "You route a sales rep's Slack message to one of journeybot's commands. Call exactly "
    "one tool when a command fits the message, filling its arguments only from the "
    "message itself; never invent account, deal or owner names. When the message implies "
    "the buyer's journey stage or the stakeholder it is about, even without naming them, "
    "set the stage and persona arguments to one of their listed values. If no command "
    "fits, call no tool."
)
# Values an argument takes in this deployment (the live map's stage and persona ids),
# each with what it means: the model can only pick a stage it has been told about.
ArgValues = dict[str, list[tuple[str, str]]]
_JSON_TYPES = {"text": "string", "int": "integer", "float": "number", "flag": "boolean", "choice": "string"}


@dataclass(frozen=True)
class LlmRoute:
    skill: str
    arguments: dict[str, Any]  # typed as the skill's Args declare; for Registry.dispatch(**arguments)


def arg_schema(arg: Arg, values: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": _JSON_TYPES[arg.kind], "description": arg.help}
    if arg.kind == "choice":
        schema["enum"] = list(arg.choices)
    elif values and arg.kind == "text":
        schema["enum"] = [value for value, _ in values]
        schema["description"] += ". One of: " + "; ".join(f"{value} = {meaning}" for value, meaning in values)
    if arg.default is not None:
        schema["default"] = arg.default
    return schema


def skill_tool(skill: Skill, values: ArgValues | None = None) -> dict[str, Any]:
    """One skill as an OpenAI-format tool (langchain converts it for other providers)."""
    values = values or {}
    parameters: dict[str, Any] = {
        "type": "object",
        "properties": {a.name: arg_schema(a, values.get(a.name)) for a in skill.args},
        "required": [a.name for a in skill.args if a.required],
        "additionalProperties": False,
    }
    return {"type": "function", "function": {"name": skill.name, "description": skill.help, "parameters": parameters}}


def registry_tools(registry: Registry, values: ArgValues | None = None) -> list[dict[str, Any]]:
    return [skill_tool(skill, values) for skill in registry.skills.values()]


def route_with_llm(
    chat: BaseChatModel, registry: Registry, text: str, *, timeout_s: float, values: ArgValues | None = None
) -> LlmRoute | None:
    """The skill and typed arguments the model chose for `text`, or None. A stage or
    persona outside `values` is left out (the offline inference decides it) rather than
    failing the route."""
    messages = [SystemMessage(ROUTING_PROMPT), HumanMessage(text)]
    try:
        reply = _invoke_within(chat.bind_tools(registry_tools(registry, values)), messages, timeout_s)
    except Exception as exc:  # the LLM is optional: the deterministic router decides
        log.warning("LLM routing failed: %s", type(exc).__name__)
        return None
    calls = reply.tool_calls if isinstance(reply, AIMessage) else []
    if not calls:
        if isinstance(reply, AIMessage) and reply.invalid_tool_calls:
            log.warning("LLM routing: the model's tool call could not be parsed")
        return None
    name, raw = calls[0]["name"], calls[0].get("args") or {}
    skill = registry.skills.get(name)
    if skill is None:
        log.warning("LLM routing: the model called an unknown tool %r", name[:60])
        return None
    arguments = validate_arguments(skill, _known_values(raw, values or {}))
    if arguments is None:
        log.warning("LLM routing: arguments for %s do not fit its declaration", name)
        return None
    return LlmRoute(name, arguments)


def _known_values(raw: Any, values: ArgValues) -> Any:
    """`raw` without any argument whose value is not among its listed values."""
    if not isinstance(raw, dict):
        return raw
    allowed = {name: {value for value, _ in listed} for name, listed in values.items()}
    unknown = [name for name, value in raw.items() if name in allowed and value is not None and value not in allowed[name]]
    if unknown:
        log.info("LLM routing: left out %s, not among the map's values", ", ".join(sorted(unknown)))
    return {name: value for name, value in raw.items() if name not in unknown}


def validate_arguments(skill: Skill, raw: dict[str, Any]) -> dict[str, Any] | None:
    """The arguments typed per the skill's Args, or None when one is unknown, mistyped,
    out of its choices, or a required one is missing. Absent (or null) ones stay out, so
    dispatch applies the declared defaults."""
    if not isinstance(raw, dict):
        return None
    by_name = {a.name: a for a in skill.args}
    if any(key not in by_name for key in raw):
        return None
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue  # small models send "" for arguments they leave out
        typed = _typed(by_name[name], value)
        if typed is None:
            return None
        out[name] = typed
    if missing_required(skill, out):
        return None
    return out


def _typed(arg: Arg, value: Any) -> Any:
    """`value` as `arg.kind` (None when it does not fit): JSON numbers and booleans as
    they come, strings through the registry's own conversion."""
    if arg.kind == "flag":
        if isinstance(value, bool):
            return value
        return {"true": True, "false": False}.get(str(value).strip().lower())
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and arg.kind in ("int", "float"):
        if not math.isfinite(value) or (arg.kind == "int" and not float(value).is_integer()):
            return None
        return int(value) if arg.kind == "int" else float(value)
    if not isinstance(value, str):
        return None
    try:
        typed = convert_arg(arg, value.strip())
    except SkillInputError:
        return None
    return None if isinstance(typed, float) and not math.isfinite(typed) else typed


def _invoke_within(runnable: Any, messages: list[Any], timeout_s: float) -> Any:
    """`runnable.invoke(messages)` or TimeoutError after `timeout_s`, whatever the
    provider's own timeout and retries do (the worker thread is left to finish alone)."""
    outcome: dict[str, Any] = {}
    context = contextvars.copy_context()

    def call() -> None:
        try:
            outcome["value"] = runnable.invoke(messages)
        except Exception as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=context.run, args=(call,), name="llm-routing", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise TimeoutError(f"no routing decision within {timeout_s:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
