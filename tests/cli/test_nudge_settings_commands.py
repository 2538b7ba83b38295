"""`journeybot nudges on|off|status|quiet|cap --user U123`: the registry's `nudges` from the
shell, acting for the Slack user named, with the same grammar and one-line mistakes as in Slack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app


@pytest.fixture
def runner(tmp_path: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "JOURNEYBOT_DATABASE_URL", "JOURNEYBOT_CHROMA_HOST", "JOURNEYBOT_LLM_PROVIDER",
                 "JOURNEYBOT_JOURNEY_MAP_PATH", "JOURNEYBOT_HUBSPOT_ACCESS_TOKEN", "JOURNEYBOT_NUDGE_DAILY_CAP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JOURNEYBOT_DATA_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("JOURNEYBOT_EMBEDDING_MODEL_DIR", str(model_dir))
    return CliRunner()


def test_nudges_for_a_user_from_the_shell(runner: CliRunner) -> None:
    result = runner.invoke(app, ["nudges", "off", "--user", "U0CLI"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Nudges are off · quiet 19:00–08:00 your time · at most 5 a day."
    result = runner.invoke(app, ["nudges", "quiet", "21:30-6", "--user", "U0CLI", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert (payload["enabled"], payload["quiet_start"], payload["quiet_end"], payload["changed"]) == (
        False, "21:30", "06:00", "quiet")
    status = runner.invoke(app, ["nudges", "status", "--user", "U0CLI"])
    assert status.exit_code == 0 and "Nudges are off · quiet 21:30–06:00" in status.stdout
    other = runner.invoke(app, ["nudges", "status", "--user", "U0OTHER"])
    assert "Nudges are on" in other.stdout
    capped = runner.invoke(app, ["nudges", "cap", "2", "--user", "U0CLI"])
    assert capped.exit_code == 0 and capped.stdout.strip().endswith("at most 2 a day.")
    back = runner.invoke(app, ["nudges", "on", "--user", "U0CLI"])
    assert back.exit_code == 0 and back.stdout.startswith("Nudges are on · quiet 21:30–06:00")


def test_mistakes_exit_2_with_one_line(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    result = runner.invoke(app, ["nudges", "off"])
    assert result.exit_code == 2 and "--user U123" in result.output
    monkeypatch.setenv("JOURNEYBOT_NUDGE_DAILY_CAP", "3")
    result = runner.invoke(app, ["nudges", "cap", "4", "--user", "U0CLI"])
    assert result.exit_code == 2 and "at most 3" in result.output and "Traceback" not in result.output
