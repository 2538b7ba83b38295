"""`journeybot crm check` against a running sandbox (settings from the environment)."""

from __future__ import annotations

import json
import time

import pytest
from typer.testing import CliRunner

from cli.crm_commands import crm_app
from sandbox.server import SandboxServer
from tests.conftest import free_port


def _env(monkeypatch: pytest.MonkeyPatch, server: SandboxServer, token: str, tmp: str) -> None:
    monkeypatch.setenv("JOURNEYBOT_HUBSPOT_BASE_URL", server.base_url)
    monkeypatch.setenv("JOURNEYBOT_HUBSPOT_ACCESS_TOKEN", token)
    monkeypatch.setenv("JOURNEYBOT_DATA_DIR", tmp)
    monkeypatch.setenv("JOURNEYBOT_HUBSPOT_BACKOFF_BASE_S", "0.01")


def test_check_reports_size_and_scopes(crm_server: SandboxServer, monkeypatch: pytest.MonkeyPatch,
                                       tmp_path: object) -> None:
    _env(monkeypatch, crm_server, "crm-test-token", str(tmp_path))
    result = CliRunner().invoke(crm_app, ["check", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["token_ok"] and report["counts"]["deals"] == 600 and report["missing_scopes"] == []
    crm_server.scopes = {"crm.objects.deals.read", "crm.objects.companies.read", "crm.objects.contacts.read"}
    result = CliRunner().invoke(crm_app, ["check"])
    assert result.exit_code == 1 and "crm.objects.owners.read" in result.output


def test_check_with_a_wrong_token_fails(crm_server: SandboxServer, monkeypatch: pytest.MonkeyPatch,
                                        tmp_path: object) -> None:
    _env(monkeypatch, crm_server, "wrong", str(tmp_path))
    result = CliRunner().invoke(crm_app, ["check", "--json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 1 and report["token_ok"] is False and report["missing_scopes"] is None
    text = CliRunner().invoke(crm_app, ["check"])
    assert text.exit_code == 1 and "rejected" in text.stdout and "unknown" in text.stdout
    assert "none" not in text.stdout.split("missing scopes", 1)[1].splitlines()[0]


def test_check_with_hubspot_unreachable_fails_fast(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """A closed port: non-zero within seconds, one line naming the URL; never "token works"."""
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("JOURNEYBOT_HUBSPOT_BASE_URL", url)
    monkeypatch.setenv("JOURNEYBOT_HUBSPOT_ACCESS_TOKEN", "any-token")
    monkeypatch.setenv("JOURNEYBOT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("JOURNEYBOT_HUBSPOT_BACKOFF_BASE_S", raising=False)  # the defaults: 0.5 s doubling, 6 retries
    started = time.monotonic()
    result = CliRunner().invoke(crm_app, ["check"])
    assert time.monotonic() - started < 5
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [f"cannot reach HubSpot at {url} (Connection refused); "
                                                  "check JOURNEYBOT_HUBSPOT_BASE_URL and the network."]
    assert "works" not in result.output
    report = json.loads(CliRunner().invoke(crm_app, ["check", "--json"]).stdout)
    assert report["reachable"] is False and report["token_ok"] is None and report["missing_scopes"] is None


def test_sync_uses_the_snapshot_on_the_second_run(crm_server: SandboxServer, monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: object) -> None:
    from storage.engine import make_engine
    from storage.migrate import upgrade_database

    _env(monkeypatch, crm_server, "crm-test-token", str(tmp_path))
    url = f"sqlite:///{tmp_path}/sync.db"
    monkeypatch.setenv("DATABASE_URL", url)
    upgrade_database(make_engine(url))
    first = CliRunner().invoke(crm_app, ["sync"])
    assert first.exit_code == 0, first.output
    assert "deals: 600, companies: 200, contacts: 1,500" in first.stdout
    crm_server.reset_counters()
    second = CliRunner().invoke(crm_app, ["sync"])
    assert second.exit_code == 0, second.output
    assert not [k for k in crm_server.counts if k.startswith("list:")]
    assert {k for k in crm_server.counts if k.startswith("search:")} == {
        "search:deals", "search:companies", "search:contacts", "search:calls", "search:emails", "search:meetings",
        "search:notes", "search:tasks"}
