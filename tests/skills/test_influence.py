"""The content influence report against an independent computation: sends recorded in
storage (SQLite and PostgreSQL), deals read from the sandbox through the real gateway,
and the expected figures worked out in this file straight from the portal's raw records
(hs_v2_date_entered_* or, where absent, the dealstage history)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import delete

from bot.blocks import render_result
from cli.text import render_text
from sandbox.generator import generate_portal
from sandbox.model import Portal
from sandbox.server import SandboxServer
from skills.builtin import default_registry
from skills.context import SkillContext
from skills.gaps import run_gaps
from skills.influence import recorded_sends, run_influence
from skills.influence_report import InfluenceReport, build_influence
from storage.content_sent import ContentSent, record_content_sent
from storage.engine import session_scope
from storage.migrate import upgrade_database
from tests.skills.account_fixtures import EMAIL, NOW, crm_skill_context

DAY = dt.timedelta(days=1)
DAYS = 180
STAGE_A, STAGE_B = "qualifiedtobuy", "presentationscheduled"
MISSING_DEAL = "999999999"


def entries(portal: Portal, deal_id: int) -> dict[str, int]:
    """When the deal first entered each stage (epoch ms), from the raw record."""
    obj = portal.objects["deals"][deal_id]
    v2 = {k.removeprefix("hs_v2_date_entered_"): int(v) for k, v in obj.properties.items()
          if k.startswith("hs_v2_date_entered_") and k != "hs_v2_date_entered_current_stage"}
    if v2:
        return v2
    out: dict[str, int] = {}
    for stage, stamp in obj.history.get("dealstage", []):
        out.setdefault(stage, int(stamp))
    return out


def converted(portal: Portal, deal_id: int, stage: str) -> bool:
    obj = portal.objects["deals"][deal_id]
    if obj.properties.get("hs_is_closed_won") == "true":
        return True
    pipe = next(p for p in portal.pipelines if p.id == obj.properties["pipeline"])
    ids = [s.id for s in pipe.stages]
    later = {s.id for s in pipe.stages[ids.index(stage) + 1:] if s.is_won or not s.is_closed}
    seen = entries(portal, deal_id)
    return any(s in later and t >= seen[stage] for s, t in seen.items())


def in_window(portal: Portal, deal_id: int, stage: str) -> bool:
    stamp = entries(portal, deal_id).get(stage)
    return stamp is not None and NOW - DAYS * DAY <= dt.datetime.fromtimestamp(stamp / 1000, dt.UTC) <= NOW


def expected(portal: Portal, sent_on: list[int], stage: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """((converted, deals) with the asset, (converted, deals) without), by hand."""
    rest = [d for d in portal.objects["deals"] if d not in sent_on and in_window(portal, d, stage)]
    return ((sum(converted(portal, d, stage) for d in sent_on), len(sent_on)),
            (sum(converted(portal, d, stage) for d in rest), len(rest)))


@pytest.fixture(scope="module")
def portal() -> Portal:
    return generate_portal(23, now=NOW)


@pytest.fixture(scope="module")
def server(portal: Portal) -> Iterator[SandboxServer]:
    with SandboxServer(portal, token="skills-test-token", rate_limit=None, search_rate_limit=None) as srv:
        yield srv


@pytest.fixture
def ctx(sample_service: Any, server: SandboxServer, tmp_path: Path) -> Iterator[SkillContext]:
    with crm_skill_context(sample_service, server, tmp_path) as context:
        yield context


def picks(portal: Portal) -> tuple[list[int], list[int]]:
    """Deals in the window at each stage: 8 get asset A at STAGE_A, 3 get asset B at STAGE_B."""
    at_a = [d for d in portal.objects["deals"] if in_window(portal, d, STAGE_A)]
    at_b = [d for d in portal.objects["deals"] if in_window(portal, d, STAGE_B)]
    assert len(at_a) > 40 and len(at_b) > 20
    return at_a[::5][:8], at_b[1:4]


def record(engine: Engine, portal: Portal, ctx: SkillContext) -> tuple[str, str, list[int], list[int]]:
    stage_assets = [a.id for a in ctx.journey_map.assets]
    asset_a, asset_b = stage_assets[0], stage_assets[1]
    on_a, on_b = picks(portal)
    with session_scope(engine) as session:
        session.exec(delete(ContentSent))  # type: ignore[call-overload]
        for n, deal_id in enumerate(on_a):
            # half carry the stage entry (as a button does), half leave it to the CRM
            entered = dt.datetime.fromtimestamp(entries(portal, deal_id)[STAGE_A] / 1000, dt.UTC) if n % 2 else None
            for user in ("U0A", "U0B"):  # a second click counts once
                record_content_sent(session, deal_id=str(deal_id), crm_stage_id=STAGE_A, journey_stage_id=None,
                                    asset_id=asset_a, user=user, stage_entered_at=entered, at=NOW - DAY)
        for deal_id in on_b:
            record_content_sent(session, deal_id=str(deal_id), crm_stage_id=STAGE_B, journey_stage_id=None,
                                asset_id=asset_b, user="U0A", at=NOW - DAY)
        record_content_sent(session, deal_id=MISSING_DEAL, crm_stage_id=STAGE_A, journey_stage_id=None,
                            asset_id=asset_a, user="U0A", at=NOW - DAY)
    return asset_a, asset_b, on_a, on_b


def check(report: InfluenceReport, portal: Portal, asset_a: str, asset_b: str, on_a: list[int], on_b: list[int]
          ) -> None:
    by_asset = {a.asset_id: a for a in report.assets}
    assert set(by_asset) == {asset_a, asset_b} and report.unmatched_sends == 1 and report.sends == len(on_a) + len(on_b)
    row_a, row_b = by_asset[asset_a].stages[0], by_asset[asset_b].stages[0]
    (ka, na), (kb, nb) = expected(portal, on_a, STAGE_A)
    assert (row_a.with_asset.converted, row_a.with_asset.deals, row_a.without.converted, row_a.without.deals) == (
        ka, na, kb, nb)
    assert row_a.comparable and row_a.lift_points == pytest.approx(round(100 * ka / na, 1) - round(100 * kb / nb, 1))
    assert sorted(d.id for d in row_a.deals) == sorted(str(d) for d in on_a)
    assert {d.id for d in row_a.deals if d.converted} == {str(d) for d in on_a if converted(portal, d, STAGE_A)}
    (kc, nc), (kd, nd) = expected(portal, on_b, STAGE_B)
    assert (row_b.with_asset.converted, row_b.with_asset.deals, row_b.without.converted, row_b.without.deals) == (
        kc, nc, kd, nd)
    assert not row_b.comparable and row_b.lift_points is None  # 3 deals: too few
    assert f"{kc}/{nc}" in row_b.comparison(report.min_deals) and "too few to compare" in row_b.comparison(5)
    assert row_a.journey_stage_id == "consideration"


def test_figures_match_the_raw_records_on_each_database(engine: Engine, portal: Portal, ctx: SkillContext) -> None:
    upgrade_database(engine)
    asset_a, asset_b, on_a, on_b = record(engine, portal, ctx)
    gateway = ctx.gateway
    report = build_influence(recorded_sends(engine), gateway.deals(), gateway.pipelines(), ctx.journey_map, now=NOW,
                             days=DAYS, min_deals=5)
    check(report, portal, asset_a, asset_b, on_a, on_b)


def test_the_skill_from_the_registry_renders_with_counts(portal: Portal, ctx: SkillContext) -> None:
    asset_a, asset_b, on_a, on_b = record(ctx.engine, portal, ctx)
    report = default_registry().dispatch(ctx, "influence", f"--days {DAYS} --min_deals 5")
    assert isinstance(report, InfluenceReport)
    check(report, portal, asset_a, asset_b, on_a, on_b)
    dumped = json.dumps(report.to_dict())
    assert not EMAIL.search(dumped)
    row = report.assets[0].stages[0]
    text = render_text(report) or ""
    message = render_result("influence", report)
    blocks = json.dumps(message.payload_blocks(), ensure_ascii=False)
    for out in (text, blocks):
        assert row.with_asset.text() in out and row.without.text() in out and "too few to compare" in out
    assert not EMAIL.search(blocks)


def test_nothing_recorded_reads_no_crm(ctx: SkillContext, server: SandboxServer) -> None:
    with session_scope(ctx.engine) as session:
        session.exec(delete(ContentSent))  # type: ignore[call-overload]
    server.reset_counters()
    report = run_influence(ctx)
    assert report.assets == () and server.total_requests == 0
    assert "Nothing recorded yet" in (render_text(report) or "")


def test_the_gap_audit_carries_a_section(portal: Portal, ctx: SkillContext) -> None:
    record(ctx.engine, portal, ctx)
    report = run_gaps(ctx)
    assert report.influence is not None and len(report.influence.assets) == 2
    assert report.to_dict()["influence"]["assets"][0]["stages"][0]["with_asset"]["deals"] == 8
    blocks = json.dumps(render_result("gaps", report).payload_blocks(), ensure_ascii=False)
    row = report.influence.assets[0].stages[0]
    assert "Content influence" in blocks and row.with_asset.text() in blocks
    assert "Content influence" in (render_text(report) or "")
