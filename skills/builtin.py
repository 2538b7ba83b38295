"""The registry with every built-in skill; entry points call `default_registry()`."""

from __future__ import annotations

from functools import cache

from skills.registry import Registry


@cache
def default_registry() -> Registry:
    from skills import account, ask, churn, deal, gaps, influence, velocity

    registry = Registry()
    for module in (ask, gaps, account, deal, velocity, churn, influence):
        registry.add(module.SKILL)
    return registry
