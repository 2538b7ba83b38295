"""The gap audit ranked by the CRM's conversion, and still running when the CRM is down."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sandbox.generator import generate_portal
from sandbox.server import SandboxServer
from skills.context import SkillContext
from skills.conversion import conversion_from_crm
from skills.gaps import run_gaps
from tests.skills.conftest import SKILL_NOW, SKILL_TOKEN


def test_lowest_converting_stage_ranks_first(skill_context: Callable[..., SkillContext], tmp_path: Path) -> None:
    with SandboxServer(generate_portal(5, now=SKILL_NOW), token=SKILL_TOKEN, rate_limit=None) as server:
        ctx = skill_context(server, data_dir=tmp_path)
        rates = conversion_from_crm(ctx)
        report = run_gaps(ctx)
    mapped = {"consideration", "decision"}  # the journey stages the default pipeline's open stages map to
    assert mapped <= set(rates) and all(0.0 <= r <= 1.0 for r in rates.values())
    assert report.ranked_by == "conversion"
    ranked = [g.stage_id for g in report.stages]
    assert ranked[0] == min(rates, key=lambda s: rates[s])
    assert any("Conversion from the CRM" in n for n in report.notes)


def test_crm_down_falls_back_to_stage_order(skill_context: Callable[..., SkillContext], tmp_path: Path) -> None:
    with SandboxServer(generate_portal(5, now=SKILL_NOW), token=SKILL_TOKEN, rate_limit=None) as server:
        ctx = skill_context(server, data_dir=tmp_path, hubspot_max_retries=1)
    report = run_gaps(ctx)  # the server is gone now
    assert report.ranked_by == "stage_order"
    orders = [g.order for g in report.stages]
    assert orders == sorted(orders)
    assert any("CRM unavailable" in n for n in report.notes)
