"""The digest chart: a real PNG in the context's reports folder (none without one), stage
labels on the axes, the path carried (as a string) in the report's JSON."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from sandbox.generator import generate_portal
from sandbox.server import SandboxServer
from skills.context import SkillContext
from skills.velocity import run_velocity
from skills.velocity_chart import draw_velocity_chart
from tests.skills.conftest import SKILL_NOW, SKILL_TOKEN


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(generate_portal(11, now=SKILL_NOW), token=SKILL_TOKEN, rate_limit=None,
                       search_rate_limit=None) as srv:
        yield srv


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_run_velocity_writes_a_labelled_png(skill_context: Callable[..., SkillContext], server: SandboxServer,
                                            tmp_path: Path) -> None:
    ctx = replace(skill_context(server, data_dir=tmp_path / "state"), reports_dir=tmp_path / "out")
    report = run_velocity(ctx, pipeline="Sales Pipeline")
    path = report.chart_path
    assert path is not None and path.parent == tmp_path / "out"
    assert path.name.startswith("velocity-default-") and path.name.endswith(f"{SKILL_NOW:%Y%m%d-%H%M%S}.png")
    width, height = _png_size(path)
    assert width >= 1200 and 300 <= height <= 1400  # legible at Slack's preview width
    assert json.loads(json.dumps(report.to_dict()))["chart_path"] == str(path)

    pipe = report.pipelines[0]
    figure = draw_velocity_chart(report, pipe)
    funnel, days = figure.axes
    ticks = [t.get_text().replace("\n", " ") for t in funnel.get_yticklabels()]
    assert ticks == [s.label for s in pipe.stages]
    texts = " ".join(t.get_text() for ax in (funnel, days) for t in ax.texts)
    for stage in pipe.stages:
        assert str(stage.conversion.entered) in texts
        if stage.target_days is not None:
            assert f"target {stage.target_days:g}d" in texts
    assert report.window.label in figure.texts[0].get_text()


def test_compute_only_report_has_no_chart(skill_context: Callable[..., SkillContext], server: SandboxServer,
                                          tmp_path: Path) -> None:
    ctx = skill_context(server, data_dir=tmp_path / "state")
    from skills.velocity import compute_velocity, week_window

    gw = ctx.gateway
    report = compute_velocity(gw.deals(), gw.pipelines(), gw.owners(), ctx.journey_map, week_window(ctx.now, None),
                              ctx.now)
    assert report.chart_path is None and report.to_dict()["chart_path"] is None
    assert not (tmp_path / "state" / "reports").exists()


def test_without_a_reports_folder_no_chart_is_drawn(skill_context: Callable[..., SkillContext], server: SandboxServer,
                                                    tmp_path: Path) -> None:
    report = run_velocity(skill_context(server, data_dir=tmp_path / "state"), pipeline="Sales Pipeline")
    assert report.pipelines and report.chart_path is None and report.to_dict()["chart_path"] is None
    assert not list(tmp_path.rglob("*.png"))
