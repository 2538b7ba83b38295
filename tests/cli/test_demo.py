"""The README's first command: `journeybot demo` runs every skill on embedded defaults."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app


def test_demo_runs_end_to_end(tmp_path: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("JOURNEYBOT_DATABASE_URL", "JOURNEYBOT_CHROMA_HOST", "JOURNEYBOT_LLM_PROVIDER",
                 "JOURNEYBOT_HUBSPOT_ACCESS_TOKEN", "JOURNEYBOT_HUBSPOT_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    # The user's own configuration: the demo must use none of it (its own folder, the sample map).
    monkeypatch.setenv("JOURNEYBOT_DATA_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'mine' / 'users.db'}")
    monkeypatch.setenv("JOURNEYBOT_JOURNEY_MAP_PATH", str(tmp_path / "users-map.yaml"))
    monkeypatch.setenv("JOURNEYBOT_EMBEDDING_MODEL_DIR", str(model_dir))
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for section in ("journeybot ask", "journeybot gaps", "journeybot velocity", "journeybot churn", "journeybot account"):
        assert section in out
    assert "[1] Fieldline ROI calculator" in out or "roi-calculator" in out
    assert "Coverage:" in out and "Stalled now:" in out and "Readiness" in out
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", out), "no email may appear in the demo output"
    reports = tmp_path / "state" / "demo" / "reports"
    assert not (tmp_path / "mine").exists() and sorted(p.name for p in (tmp_path / "state").iterdir()) == ["demo"]
    pngs = list(reports.glob("gaps-*.png"))
    assert pngs and pngs[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the scheduler fired both subscriptions into the Slack stand-in, which printed what it received
    assert "#C0LEADERS digest" in out and "#C0SUCCESS churn" in out
    assert "posted to #C0LEADERS" in out and "Velocity, week" in out
    assert "posted to #C0SUCCESS" in out and "HIGH" in out
    assert "images uploaded with the posts: velocity-" in out
    assert list(reports.glob("velocity-*.png"))
    # a deal moved through the sandbox's admin endpoint, as a rep would in HubSpot
    moved = re.search(r"\(deal (\d+)\) moved from ([\w -]+) to ([\w -]+) at ", out)
    assert moved and moved[2] != moved[3], out[-2000:]
    # the clock's nudge scan DMs the deal's owner once: the scan before the move nudged nobody
    assert "1 deal changed stage, 1 nudge posted" in out and out.count("DM D0DEMOREP") == 1
    dm = out.split("DM D0DEMOREP", 1)[1]
    assert re.search(rf"moved to {re.escape(moved[3])}", dm), out[-2000:]
    # the DM as the rep reads it: the journey stage, what to send (with its button), in plain text
    assert "Journey stage: " in dm and " means: " in dm and "[Sent it]" in dm and "https://" in dm
    assert not re.search(r"&amp;|<https?://[^>|]+\|", dm), dm[:2000]
    # a second demo (a restart) posts nothing twice: each subscription period posts exactly once
    again = CliRunner().invoke(app, ["demo"])
    assert again.exit_code == 0, again.output
    assert again.stdout.count("already posted for this period") == 2
    assert "posted to #C0LEADERS" not in again.stdout
    assert "1 deal changed stage, 1 nudge posted" in again.stdout  # a new portal, a new baseline: one move, one DM
