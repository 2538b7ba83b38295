"""Socket Mode's entry point as a user starts it: a missing token is one line naming the
setting, with the exit code of a setting to fix, and nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize(("env", "named"), [
    ({}, "JOURNEYBOT_SLACK_APP_TOKEN"),
    ({"JOURNEYBOT_SLACK_APP_TOKEN": "xapp-0-0"}, "JOURNEYBOT_SLACK_BOT_TOKEN"),
])
def test_python_m_socket_mode_names_the_missing_token(env: dict[str, str], named: str, tmp_path: Path) -> None:
    base = {k: v for k, v in os.environ.items() if not (k.startswith("JOURNEYBOT_") or k == "DATABASE_URL")}
    data_dir = tmp_path / "state"
    result = subprocess.run([sys.executable, "-m", "bot.socket_mode"], env={**base, **env, "JOURNEYBOT_DATA_DIR": str(data_dir)},
                            cwd=tmp_path, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert named in lines[0] and "Traceback" not in result.stderr
    assert not data_dir.exists()
