"""Which function renders which result: registered by result type, next to the renderer,
so a new skill's result needs no edit anywhere else."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.message import SlackMessage

T = TypeVar("T")


@dataclass(frozen=True)
class RenderOptions:
    """`log_id`: the question-log row (feedback buttons); `ephemeral`: only the asker sees
    it (adds *Share*); `offset`: the *Show more* page start; `mentions`: CRM owner id ->
    Slack user id."""

    log_id: int | None = None
    ephemeral: bool = False
    offset: int = 0
    mentions: Mapping[str, str] | None = None


Renderer = Callable[[Any, RenderOptions], SlackMessage]
TypedRenderer = Callable[[T, RenderOptions], SlackMessage]
_RENDERERS: dict[type, Renderer] = {}


def renders(result_type: type[T]) -> Callable[[TypedRenderer[T]], TypedRenderer[T]]:
    def register(function: TypedRenderer[T]) -> TypedRenderer[T]:
        _RENDERERS[result_type] = function
        return function

    return register


def renderer_for(result: object) -> Renderer | None:
    return next((_RENDERERS[k] for k in type(result).__mro__ if k in _RENDERERS), None)
