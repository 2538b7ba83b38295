"""The README documents every setting and the CI runs its test command."""

from __future__ import annotations

from pathlib import Path

from config import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in Settings.model_fields:
        env = "DATABASE_URL" if name == "database_url" else f"JOURNEYBOT_{name.upper()}"
        assert f"| `{env}` |" in readme, f"{env} missing from the README settings table"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test    # the whole test suite" in readme
    assert "\nmake test\n" in ci
