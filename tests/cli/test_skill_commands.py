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
    assert payload["ranked_by"] == "stage_order"


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.suffix in (".png", ".csv"))


def test_gaps_writes_its_files_only_with_out(runner: CliRunner, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNEYBOT_HUBSPOT_ACCESS_TOKEN")  # the audit needs no CRM: keep it quick
    bare = runner.invoke(app, ["gaps", "--json"])
    assert bare.exit_code == 0, bare.output
    payload = json.loads(bare.stdout)
    assert payload["heatmap_path"] is None and payload["csv_path"] is None  # the keys stay, null
    assert _files(tmp_path) == [] and not (tmp_path / "state" / "reports").exists()
    text = runner.invoke(app, ["gaps"])
    assert text.exit_code == 0 and "Heatmap and CSV: add --out DIR to write them" in text.stdout
    assert _files(tmp_path) == []

    written = runner.invoke(app, ["gaps", "--stale_months", "6", "--out", "audit/june"])
    assert written.exit_code == 0, written.output
    folder = tmp_path / "audit" / "june"  # made, relative to the working directory
    names = _files(folder)
    assert [n.rsplit(".", 1)[1] for n in names] == ["csv", "png"] and _files(tmp_path) == names
    assert f"Heatmap: {folder / names[1]}" in written.stdout and f"CSV: {folder / names[0]}" in written.stdout
    assert "add --out" not in written.stdout


def test_velocity_draws_its_chart_only_with_out(runner: CliRunner, tmp_path: Path) -> None:
    bare = runner.invoke(app, ["velocity", "--json", "--pipeline", "Sales Pipeline"])
    assert bare.exit_code == 0, bare.output
    assert json.loads(bare.stdout)["chart_path"] is None and _files(tmp_path) == []
    written = runner.invoke(app, ["velocity", "--pipeline", "Sales Pipeline", "--out", str(tmp_path / "charts")])
    assert written.exit_code == 0, written.output
    chart, = (tmp_path / "charts").glob("velocity-default-*.png")
    assert f"Chart: {chart}" in written.stdout and _files(tmp_path) == [chart.name]


@pytest.mark.parametrize("command", [["gaps"], ["velocity"]])
def test_an_out_that_is_no_folder_is_one_line(runner: CliRunner, tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    for out in ("notes.txt", "notes.txt/charts"):
        result = runner.invoke(app, [*command, "--out", out, "--json"])
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert result.exit_code == 2 and len(lines) == 1, result.output
        assert lines[0].startswith("--out: ") and "is a file" in lines[0] and "Traceback" not in result.output
    assert _files(tmp_path) == []


def test_out_belongs_to_the_command_not_to_the_skill(runner: CliRunner) -> None:
    """What a Slack user types after `/journey gaps` is parsed by the registry: no --out there."""
    from skills.builtin import default_registry
    from skills.registry import SkillInputError, parse_args

    registry = default_registry()
    for name in ("gaps", "velocity"):
        with pytest.raises(SkillInputError, match="--out"):
            parse_args(registry.skills[name], "--out /tmp/x")
    assert "--out" not in runner.invoke(app, ["account", "--help"]).stdout  # it writes no files
