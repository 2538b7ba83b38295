"""Help text as a terminal shows it."""

from __future__ import annotations

import click
import pytest
from typer.testing import CliRunner

from cli.app import _reflowed, app


def test_help_paragraphs_are_reflowed_not_broken_at_the_sources_width() -> None:
    group = click.Group("g", help="Top line\n    that goes on.", commands=[
        click.Command("c", help="First paragraph\n    continued here.\n\n    Second one\n    too.")])
    _reflowed(group)
    assert group.help == "Top line that goes on."
    assert group.commands["c"].help == "First paragraph continued here.\n\nSecond one too."


def test_a_lazily_loaded_commands_help_reads_as_sentences(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # wide enough that only the source's breaks could split the sentence
    shown = CliRunner().invoke(app, ["sandbox", "--help"])
    assert shown.exit_code == 0, shown.output
    assert "POST /_sandbox/deals/{id}/stage {\"stage\": ...} moves a deal; POST" in shown.stdout
