"""Fixtures for CRM skills: a SkillContext over a real SandboxServer, the sample map and a
fixed clock, plus helpers that plant records into a generated Portal before it is served."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from config import Settings
from sandbox.model import ENGAGEMENT_TYPES, CrmObject, Portal
from sandbox.server import SandboxServer
from skills.context import SkillContext
from storage.crm_snapshot import clear_snapshot
from storage.engine import session_scope

SKILL_NOW = dt.datetime(2025, 6, 4, 10, 0, tzinfo=dt.UTC)  # a Wednesday
SKILL_TOKEN = "skill-test-token"
DAY_MS = 86_400_000


def ms(value: dt.datetime) -> int:
    return int(value.timestamp() * 1000)


def next_id(portal: Portal, object_type: str) -> int:
    """Ids stay ascending in insertion order (the sandbox pages in that order); engagement
    ids are unique across engagement types, as in HubSpot."""
    kinds = ENGAGEMENT_TYPES if object_type in ENGAGEMENT_TYPES else (object_type,)
    return max(max(portal.objects[k], default=0) for k in kinds) + 1


def link(portal: Portal, a_type: str, a_id: int, b_type: str, b_id: int) -> None:
    portal.associations.setdefault((a_type, b_type), {}).setdefault(a_id, []).append(b_id)
    portal.associations.setdefault((b_type, a_type), {}).setdefault(b_id, []).append(a_id)


def add_object(portal: Portal, object_type: str, props: dict[str, str | int], created_ms: int) -> CrmObject:
    oid = next_id(portal, object_type)
    obj = CrmObject(oid, {**props, "hs_object_id": str(oid), "createdate": created_ms,
                          "hs_lastmodifieddate": created_ms}, created_ms, created_ms)
    portal.objects[object_type][oid] = obj
    return obj


@pytest.fixture
def skill_context(sample_service: Any) -> Callable[..., SkillContext]:
    """Build a context for a running sandbox; the shared sample engine's CRM snapshot is
    cleared first so portals of different test modules never mix."""
    def build(server: SandboxServer, now: dt.datetime = SKILL_NOW, **overrides: Any) -> SkillContext:
        from knowledge.service import KnowledgeService

        values: dict[str, Any] = {
            **sample_service.settings.model_dump(), "hubspot_access_token": SKILL_TOKEN,
            "hubspot_base_url": server.base_url, "hubspot_backoff_base_s": 0.01, "hubspot_backoff_max_s": 0.05,
            "hubspot_rate_limit": 1000, "hubspot_rate_window_s": 1.0, "hubspot_timeout_s": 5.0,
        }
        values.update(overrides)
        settings = Settings.from_mapping(values)
        with session_scope(sample_service.engine) as session:
            clear_snapshot(session)
        return SkillContext(settings, KnowledgeService(settings, engine=sample_service.engine), clock=lambda: now)

    return build

