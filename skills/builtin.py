"""The registry with every built-in skill; entry points call `default_registry()`, and a
command that runs one named skill calls `registry_for(name)`, which imports only that
skill's modules (a cold `journeybot ask` does not load the CRM skills)."""

from __future__ import annotations

import importlib
from functools import cache
from typing import cast

from skills.registry import Registry, Skill

# Skill name -> the module that declares it as `SKILL`, in the order help lists them.
BUILTIN: dict[str, str] = {
    "ask": "skills.ask",
    "gaps": "skills.gaps",
    "account": "skills.account",
    "deal": "skills.deal",
    "velocity": "skills.velocity",
    "churn": "skills.churn",
    "influence": "skills.influence",
    "nudges": "skills.nudges",
}


def _declared(name: str) -> Skill:
    skill = cast(Skill, importlib.import_module(BUILTIN[name]).SKILL)
    if skill.name != name:
        raise ValueError(f"{BUILTIN[name]} declares {skill.name!r}, listed as {name!r}")
    return skill


@cache
def default_registry() -> Registry:
    registry = Registry()
    for name in BUILTIN:
        registry.add(_declared(name))
    return registry


@cache
def registry_for(name: str) -> Registry:
    """A registry holding only skill `name`; every skill when the name is not a built-in,
    so the registry's "unknown command" message still lists them all."""
    if name not in BUILTIN:
        return default_registry()
    registry = Registry()
    registry.add(_declared(name))
    return registry
