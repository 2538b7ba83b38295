"""The README documents every setting and the CI runs its test command."""

from __future__ import annotations

from pathlib import Path

from config.reference import settings_table

ROOT = Path(__file__).resolve().parent.parent


def test_readme_settings_table_is_current() -> None:
    readme = (ROOT / "README.md").read_text()
    assert settings_table() in readme, "regenerate the table: python -m config.reference"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test    # the whole test suite" in readme
    assert "\nmake test\n" in ci
