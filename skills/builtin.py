"""The registry with every built-in skill; entry points call `default_registry()`."""

from __future__ import annotations

from functools import cache

from skills.registry import Registry


@cache
def default_registry() -> Registry:
    from skills import ask

    registry = Registry()
    for module in (ask,):
        registry.add(module.SKILL)
    return registry
