"""Skill commands generated from the registry, run as a user would against the sandbox."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app
from sandbox.generator import generate_portal
from sandbox.server import SandboxServer

TOKEN = "cli-skill-token"


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(generate_portal(3), token=TOKEN, rate_limit=None) as srv:
        yield srv


@pytest.fixture
def runner(tmp_path: Path, model_dir: Path, server: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "JOURNEYBOT_DATABASE_URL", "JOURNEYBOT_CHROMA_HOST", "JOURNEYBOT_LLM_PROVIDER",
                 "JOURNEYBOT_JOURNEY_MAP_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JOURNEYBOT_DATA_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("JOURNEYBOT_EMBEDDING_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("JOURNEYBOT_HUBSPOT_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("JOURNEYBOT_HUBSPOT_BASE_URL", server.base_url)
    return CliRunner()


def test_velocity_json_and_text(runner: CliRunner) -> None:
    result = runner.invoke(app, ["velocity", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["pipelines"] and payload["window"]["label"].count("-W") == 1
    text = runner.invoke(app, ["velocity", "--pipeline", "Sales Pipeline"])
    assert text.exit_code == 0 and "Sales Pipeline" in text.stdout and "Renewals" not in text.stdout
    assert re.search(r"^as of \d{4}-\d\d-\d\d \d\d:\d\d UTC$", text.stdout, re.MULTILINE), text.stdout


def test_bad_input_exits_2_with_a_fix(runner: CliRunner) -> None:
    result = runner.invoke(app, ["velocity", "--colour", "red"])
    assert result.exit_code == 2 and "unknown option --colour" in result.output
    result = runner.invoke(app, ["velocity", "--pipeline", "Nope"])
    assert result.exit_code == 2 and "Sales Pipeline" in result.output
    result = runner.invoke(app, ["account"])
    assert result.exit_code == 2 and "needs account" in result.output


def test_crm_down_is_a_clear_error(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEYBOT_HUBSPOT_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("JOURNEYBOT_HUBSPOT_MAX_RETRIES", "1")
    monkeypatch.setenv("JOURNEYBOT_HUBSPOT_BACKOFF_BASE_S", "0.01")
    result = runner.invoke(app, ["churn"])
    assert result.exit_code == 1 and "CRM:" in result.output and "no partial result" in result.output
    assert TOKEN not in result.output


def test_gaps_without_crm_ranks_by_stage_order(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNEYBOT_HUBSPOT_ACCESS_TOKEN")
    result = runner.invoke(app, ["gaps", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["ranked_by"] == "stage_order" and Path(payload["heatmap_path"]).exists()
