"""`velocity` against a real sandbox: every figure equals one computed here straight from the
generator's raw records (portal.objects / portal.deal_paths), not from the skill's code."""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cli.text.velocity import render
from sandbox.generator import generate_portal
from sandbox.model import Portal
from sandbox.server import SandboxServer
from skills import figures
from skills.context import SkillContext
from skills.registry import Registry, SkillInputError
from skills.velocity import SKILL, run_velocity
from skills.velocity_report import VelocityReport
from tests.skills.conftest import DAY_MS, SKILL_NOW, SKILL_TOKEN, add_object, link, ms

PLANTED_NAME = "Planted stalled renewal of Nova"
NOW_MS = ms(SKILL_NOW)


def _targets(sample_service: Any) -> dict[str, float]:
    """Deal stage -> target days, read from the map's own YAML-backed stages."""
    journey_map = sample_service.live.current().journey_map
    return {d: s.target_days_in_stage for s in journey_map.stages for d in s.hubspot.deal_stages}


@pytest.fixture(scope="module")
def portal() -> Portal:
    portal = generate_portal(23, now=SKILL_NOW)
    owner = portal.owners[0]
    entered_qtb = NOW_MS - 36 * DAY_MS  # "qualifiedtobuy" maps to consideration: target 18 days
    created = entered_qtb - 4 * DAY_MS
    deal = add_object(portal, "deals", {
        "dealname": PLANTED_NAME, "pipeline": "default", "dealstage": "qualifiedtobuy", "amount": "30000",
        "hubspot_owner_id": str(owner.id), "hs_is_closed": "false", "hs_is_closed_won": "false",
        "closedate": NOW_MS + 30 * DAY_MS,
        "hs_v2_date_entered_appointmentscheduled": created, "hs_v2_date_exited_appointmentscheduled": entered_qtb,
        "hs_v2_date_entered_qualifiedtobuy": entered_qtb,
    }, created)
    deal.history["dealstage"] = [("appointmentscheduled", created), ("qualifiedtobuy", entered_qtb)]
    portal.deal_paths[deal.id] = [("appointmentscheduled", created, entered_qtb), ("qualifiedtobuy", entered_qtb, None)]
    link(portal, "deals", deal.id, "companies", next(iter(portal.objects["companies"])))
    return portal


@pytest.fixture(scope="module")
def server(portal: Portal) -> Iterator[SandboxServer]:
    with SandboxServer(portal, token=SKILL_TOKEN, rate_limit=None, search_rate_limit=None) as srv:
        yield srv


@pytest.fixture
def ctx(skill_context: Callable[..., SkillContext], server: SandboxServer) -> SkillContext:
    return skill_context(server)


# --- the independent computation ------------------------------------------------------
def expected(portal: Portal, targets: dict[str, float], start: dt.datetime) -> dict[str, Any]:
    lo, hi = ms(start), ms(start) + 7 * DAY_MS
    out: dict[str, Any] = {}
    for pipe in portal.pipelines:
        order = [s.id for s in pipe.stages if not s.is_closed]
        won_stage = pipe.won_stage.id
        days: dict[str, list[float]] = {s: [] for s in order}
        conv: dict[str, list[int]] = {s: [0, 0, 0, 0] for s in order}
        closed = won = lost = created = stalled_end = 0
        won_amount = lost_amount = created_amount = stalled_end_amount = 0.0
        cycles: list[float] = []
        for obj in portal.records("deals"):
            p = obj.properties
            if p["pipeline"] != pipe.id:
                continue
            path = portal.deal_paths[obj.id]
            for i, (stage, t_in, t_out) in enumerate(path):
                if stage not in order:
                    continue
                if t_out is not None and lo <= t_out < hi:
                    days[stage].append((t_out - t_in) / DAY_MS)
                if lo <= t_in < hi:
                    later = [s for s, _, _ in path[i + 1:]]
                    conv[stage][0] += 1
                    if any(s == won_stage or (s in order and order.index(s) > order.index(stage)) for s in later):
                        conv[stage][1] += 1
                    elif p["hs_is_closed"] == "true":
                        conv[stage][2] += 1
                    else:
                        conv[stage][3] += 1
            amount = float(str(p["amount"]))
            if p["hs_is_closed"] == "true" and lo <= int(p["closedate"]) < hi:
                closed += 1
                if p["hs_is_closed_won"] == "true":
                    won += 1
                    won_amount += amount
                    cycles.append((int(p["closedate"]) - int(p["createdate"])) / DAY_MS)
                else:
                    lost += 1
                    lost_amount += amount
            if lo <= int(p["createdate"]) < hi:
                created += 1
                created_amount += amount
            at = min(hi, NOW_MS)
            for stage, t_in, t_out in path:
                if stage in order and stage in targets and t_in <= at and (t_out is None or t_out > at) \
                        and (at - t_in) / DAY_MS > targets[stage]:
                    stalled_end += 1
                    stalled_end_amount += amount
        out[pipe.id] = {"days": days, "conv": conv, "closed": closed, "won": won, "won_amount": won_amount,
                        "lost": lost, "lost_amount": lost_amount, "cycles": cycles, "created": created,
                        "created_amount": created_amount, "stalled_end": stalled_end,
                        "stalled_end_amount": stalled_end_amount}
    return out


def check(report: VelocityReport, want: dict[str, Any], which: str) -> None:
    for section in report.pipelines:
        exp = want[section.pipeline_id]
        totals = section.current if which == "current" else section.previous
        assert (totals.closed, totals.won, totals.created, totals.stalled) == (
            exp["closed"], exp["won"], exp["created"], exp["stalled_end"]), section.label
        assert totals.won_amount == pytest.approx(exp["won_amount"])
        assert (totals.lost, totals.closed - totals.won) == (exp["lost"], exp["lost"]), section.label
        assert totals.lost_amount == pytest.approx(exp["lost_amount"])
        assert totals.stalled_amount == pytest.approx(exp["stalled_end_amount"])
        assert totals.created_amount == pytest.approx(exp["created_amount"])
        assert totals.cycle.count == len(exp["cycles"])
        if exp["cycles"]:
            assert totals.cycle.median == pytest.approx(statistics.median(exp["cycles"]))
            assert totals.cycle.mean == pytest.approx(sum(exp["cycles"]) / len(exp["cycles"]))
        for stage in section.stages:
            days = stage.days if which == "current" else stage.previous_days
            conv = stage.conversion if which == "current" else stage.previous_conversion
            values = exp["days"][stage.stage_id]
            assert days.count == len(values), stage.label
            if values:
                assert days.median == pytest.approx(statistics.median(values))
                assert days.mean == pytest.approx(sum(values) / len(values))
            assert [conv.entered, conv.advanced, conv.lost, conv.open] == exp["conv"][stage.stage_id], stage.label


# --- tests -----------------------------------------------------------------------------
def test_default_window_is_last_full_iso_week(ctx: SkillContext) -> None:
    report = run_velocity(ctx)
    assert report.window.start == dt.datetime(2025, 5, 26, tzinfo=dt.UTC)
    assert report.window.end == dt.datetime(2025, 6, 2, tzinfo=dt.UTC)
    assert report.previous_window.start == dt.datetime(2025, 5, 19, tzinfo=dt.UTC)
    assert not report.partial
    assert [p.label for p in report.pipelines] == ["Sales Pipeline", "Renewals"]


def test_figures_match_raw_records(ctx: SkillContext, portal: Portal, sample_service: Any) -> None:
    report = run_velocity(ctx)
    targets = _targets(sample_service)
    check(report, expected(portal, targets, report.window.start), "current")
    check(report, expected(portal, targets, report.previous_window.start), "previous")
    sales = report.pipelines[0]
    assert sum(s.conversion.entered for s in sales.stages) > 10  # the window is not trivially empty
    assert any(s.days.count for s in sales.stages) and sales.current.closed > 0


def test_week_over_week_deltas(ctx: SkillContext) -> None:
    week = run_velocity(ctx, week="2025-05-21")  # a Wednesday: week of Monday 2025-05-19
    before = run_velocity(ctx, week="2025-05-12")
    assert week.window.start == dt.datetime(2025, 5, 19, tzinfo=dt.UTC)
    assert week.previous_window == before.window
    for this, last in zip(week.pipelines, before.pipelines, strict=False):
        assert this.previous == last.current
        data = this.to_dict()["totals"]
        for name, metric in this.metrics().items():
            assert metric.previous == last.metrics()[name].value, name
        assert data["deals_closed"]["delta"] == this.current.closed - last.current.closed
        assert data["created_count"]["delta"] == this.current.created - last.current.created
        if this.current.win_rate is not None and last.current.win_rate is not None:
            assert data["win_rate"]["delta"] == pytest.approx(this.current.win_rate - last.current.win_rate, abs=1e-3)
        for stage, old in zip(this.stages, last.stages, strict=False):
            assert stage.previous_conversion == old.conversion
            assert stage.previous_days == old.days


def test_planted_stalled_deal(ctx: SkillContext, portal: Portal, sample_service: Any) -> None:
    sales = run_velocity(ctx, pipeline="default").pipelines[0]
    hit = [s for s in sales.stalled if s.name == PLANTED_NAME]
    assert len(hit) == 1
    stalled = hit[0]
    owner = portal.owners[0]
    assert stalled.stage_label == "Qualified To Buy" and stalled.target_days == 18
    assert stalled.days == pytest.approx(36.0) and stalled.ratio == pytest.approx(2.0)
    assert stalled.owner_name == f"{owner.first_name} {owner.last_name}"
    assert hit[0].to_dict()["ratio"] == 2.0
    # Every listed deal really is open and over its target, and none is missing.
    targets = _targets(sample_service)
    open_over = {str(o.id) for o in portal.records("deals") if o.properties["hs_is_closed"] == "false"
                 and o.properties["pipeline"] == "default"
                 and (NOW_MS - portal.deal_paths[o.id][-1][1]) / DAY_MS > targets[str(o.properties["dealstage"])]}
    assert {s.deal_id for s in sales.stalled} == open_over
    assert [s.ratio for s in sales.stalled] == sorted((s.ratio for s in sales.stalled), reverse=True)
    assert stalled.amount == 30000.0


def test_lost_and_stalled_amounts_in_json_text_and_slack(ctx: SkillContext, portal: Portal) -> None:
    """Leaders read what was lost and what sits stalled, in money, next to what was won."""
    from bot.blocks import render_result

    report = run_velocity(ctx, pipeline="default")
    sales = report.pipelines[0]
    raw = {str(o.id): float(str(o.properties["amount"])) for o in portal.records("deals")}
    assert sales.stalled_amount == pytest.approx(sum(raw[s.deal_id] for s in sales.stalled))
    assert sales.current.lost > 0 and sales.current.lost_amount > 0  # the week is not trivially empty
    data = sales.to_dict()
    totals = data["totals"]
    assert isinstance(totals, dict)
    assert totals["deals_lost"]["value"] == sales.current.lost
    assert totals["lost_amount"]["value"] == round(sales.current.lost_amount, 2)
    assert totals["stalled_amount"]["value"] == round(sales.current.stalled_amount, 2)
    assert totals["lost_amount"]["previous"] == round(sales.previous.lost_amount, 2)
    assert data["stalled_amount"] == round(sales.stalled_amount, 2)
    assert all("amount" in s for s in data["stalled"])  # type: ignore[union-attr]
    for key in ("stage_conversion", "win_rate", "won_amount", "stalled_count"):  # the old keys stay
        assert key in totals
    lost_money, stalled_money = figures.money(sales.current.lost_amount), figures.money(sales.stalled_amount)
    text = render(report)
    assert f"lost {sales.current.lost} ({lost_money}" in text and stalled_money in text
    slack = json.dumps(render_result("velocity", report).payload_blocks())
    assert lost_money in slack and stalled_money in slack


def test_labels_not_ids_and_no_emails(ctx: SkillContext, portal: Portal) -> None:
    report = run_velocity(ctx)
    text = render(report)
    for pipe in portal.pipelines:
        for stage in pipe.stages:
            if not stage.is_closed:
                assert stage.label in text
            assert stage.id not in text, stage.id
    top = report.pipelines[0].stalled[0]
    assert "Sales Pipeline" in text and f"{top.name}: {top.stage_label}, " in text and top.owner_name in text
    data = report.to_dict()
    dumped = json.dumps(data)  # JSON-safe
    assert "@" not in dumped and "@" not in text
    for pipe in data["pipelines"]:  # type: ignore[union-attr]
        assert all(s["label"] and s["label"] != s["id"] for s in pipe["stages"])
        assert all(s["stage"] != s["stage_id"] for s in pipe["stalled"])


def test_pipeline_and_week_arguments(ctx: SkillContext) -> None:
    assert [p.pipeline_id for p in run_velocity(ctx, pipeline="renewals").pipelines] == ["renewals"]
    assert [p.pipeline_id for p in run_velocity(ctx, pipeline="sales pipeline").pipelines] == ["default"]
    registry = Registry()
    registry.add(SKILL)
    with pytest.raises(SkillInputError, match="Sales Pipeline.*Renewals"):
        registry.dispatch(ctx, "velocity", "--pipeline nope")
    with pytest.raises(SkillInputError, match="date"):
        registry.dispatch(ctx, "velocity", "--week 2025-13-40")
    with pytest.raises(SkillInputError, match="future"):
        run_velocity(ctx, week="2025-07-01")
    running = registry.dispatch(ctx, "velocity", "--week 2025-06-03")
    assert isinstance(running, VelocityReport) and running.partial
