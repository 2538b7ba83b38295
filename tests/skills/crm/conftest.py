"""Fixtures: a real SandboxServer on 127.0.0.1 and the real gateway built against it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from config import Settings
from sandbox.generator import generate_portal
from sandbox.model import Portal
from sandbox.server import SandboxServer
from skills.crm import CrmGateway
from storage.migrate import upgrade_database

CRM_NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
CRM_TOKEN = "crm-test-token"


@pytest.fixture(scope="module")
def crm_portal() -> Portal:
    """Read-only portal shared by a module's tests (mutating tests build their own)."""
    return generate_portal(11, now=CRM_NOW)


@pytest.fixture
def crm_server(crm_portal: Portal) -> Iterator[SandboxServer]:
    with SandboxServer(crm_portal, token=CRM_TOKEN, rate_limit=None) as srv:
        yield srv


def crm_settings(base_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "hubspot_access_token": CRM_TOKEN, "hubspot_base_url": base_url, "hubspot_backoff_base_s": 0.01,
        "hubspot_backoff_max_s": 0.05, "hubspot_rate_limit": 1000, "hubspot_rate_window_s": 1.0,
        "hubspot_search_per_second": 5, "hubspot_timeout_s": 5.0,
    }
    values.update(overrides)
    return Settings.from_mapping(values)


@pytest.fixture
def settings_for() -> Callable[..., Settings]:
    """Gateway settings for a sandbox URL (fast retries, generous pacing unless overridden)."""
    return crm_settings


@pytest.fixture
def make_gateway(crm_server: SandboxServer) -> Callable[..., CrmGateway]:
    def build(server: SandboxServer | None = None, engine: Engine | None = None, **overrides: Any) -> CrmGateway:
        srv = server or crm_server
        return CrmGateway(crm_settings(srv.base_url, **overrides), engine=engine)
    return build


@pytest.fixture
def snapshot_engine(engine: Engine) -> Engine:
    """The snapshot tables, migrated, on SQLite and on PostgreSQL."""
    upgrade_database(engine)
    return engine
