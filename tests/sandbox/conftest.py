"""Fixtures for the sandbox's own tests: a fixed-time portal and a running server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from hubspot import HubSpot

from sandbox.generator import generate_portal
from sandbox.model import Portal
from sandbox.server import SandboxServer

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
TOKEN = "sandbox-test-token"


@pytest.fixture(scope="module")
def portal() -> Portal:
    return generate_portal(7, now=NOW)


@pytest.fixture
def server(portal: Portal) -> Iterator[SandboxServer]:
    with SandboxServer(portal, token=TOKEN, rate_limit=None, search_rate_limit=None) as srv:
        yield srv


@pytest.fixture
def client(server: SandboxServer) -> HubSpot:
    """The real hubspot-api-client pointed at the sandbox, without urllib3 retries."""
    from urllib3.util.retry import Retry

    return HubSpot(access_token=TOKEN, host=server.base_url, retry=Retry(total=0, raise_on_status=False))
