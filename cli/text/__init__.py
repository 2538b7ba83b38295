"""Plain-text renderings of skill results for the terminal, one module per skill; each
registers its renderers by result type (`@text_for(ResultType)`), and `render_text`
finds the one for a result. Modules load on first use: `--help` imports none of them."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., str])
MODULES = ("ask", "account", "deal", "gaps", "velocity", "churn", "influence", "nudges")
_RENDERERS: dict[type, Callable[[Any], str]] = {}


def text_for(result_type: type) -> Callable[[F], F]:
    def register(function: F) -> F:
        _RENDERERS[result_type] = function
        return function

    return register


def render_text(result: object) -> str | None:
    """The result as text, or None when no renderer is registered for its type. Modules
    load in order until one knows the type: a cold `ask` imports no CRM skill's renderer."""
    for name in (None, *MODULES):
        if name is not None:
            importlib.import_module(f"cli.text.{name}")  # cached by Python after the first call
        renderer = next((_RENDERERS[k] for k in type(result).__mro__ if k in _RENDERERS), None)
        if renderer is not None:
            return renderer(result)
    return None
