"""`account` end to end: real sandbox, real gateway (with its snapshot), the sample map.

The planted account has no technical evaluator; every other finding is checked against
figures computed straight from the portal's records.
"""

from __future__ import annotations

import json
import re

import pytest

from cli.text.account import render
from sandbox.model import Portal
from sandbox.server import SandboxServer
from skills.account import SKILL, WEIGHTS, AccountChoices, AccountReadiness, run_account
from skills.context import SkillContext
from skills.registry import Registry, SkillInputError
from tests.skills.account_fixtures import (  # noqa: F401  (fixtures)
    EMAIL,
    NOW_MS,
    PHONE,
    PLANTED_DOMAIN,
    PLANTED_NAME,
    PLANTED_PEOPLE,
    Planted,
    expected_engagement,
    planted_portal,
    skill_ctx,
    skill_server,
)


@pytest.fixture(scope="module")
def report(skill_ctx: SkillContext) -> AccountReadiness:
    result = run_account(skill_ctx, PLANTED_NAME)
    assert isinstance(result, AccountReadiness)
    return result


def test_planted_gap_technical_evaluator_missing_and_multithreaded(report: AccountReadiness) -> None:
    assert report.name == PLANTED_NAME
    assert report.missing_personas == ["technical-evaluator"]
    assert sorted(report.engaged_personas) == ["champion", "economic-buyer", "end-user", "finance"]
    first = report.next_actions[0]
    assert (first.kind, first.persona_id) == ("multi_thread", "technical-evaluator")
    assert "Consideration" in first.why and "integration" in first.why.lower()
    assert first.assets and first.assets[0].url.startswith("https://")
    # No finding the data does not support: only the missing role gets a multi-thread action,
    # every engaged role gets content, none of it is for the missing one.
    assert [a.persona_id for a in report.next_actions if a.kind == "multi_thread"] == ["technical-evaluator"]
    assert sorted(a.persona_id for a in report.next_actions if a.kind == "send_content") == sorted(
        report.engaged_personas)
    assert all(a.assets for a in report.next_actions if a.kind == "send_content")


def test_committee_names_the_rule_that_matched(report: AccountReadiness, planted_portal: tuple[Portal, Planted]
                                               ) -> None:
    portal, planted = planted_portal
    by_id = {m.contact_id: m for m in report.contacts}
    assert set(by_id) == {str(c) for c in planted.contact_ids}
    for n, contact_id in enumerate(planted.contact_ids):
        _, title, persona, rule = PLANTED_PEOPLE[min(n, len(PLANTED_PEOPLE) - 1)]
        member = by_id[str(contact_id)]
        assert (member.persona_id, member.matched_by, member.job_title) == (persona, rule, title)
        props = portal.objects["contacts"][contact_id].properties
        assert member.name == f"{props['firstname']} {props['lastname']}"
    coverage = {c.persona_id: c for c in report.committee}
    assert not coverage["technical-evaluator"].engaged and coverage["technical-evaluator"].contacts == []
    assert all(coverage[p].engaged and coverage[p].contacts for p in report.engaged_personas)


def test_engagement_counts_equal_the_raw_portal(report: AccountReadiness,
                                                planted_portal: tuple[Portal, Planted]) -> None:
    portal, planted = planted_portal
    want = expected_engagement(portal, planted.company_id)
    got = {t.type: {"total": t.total, "last_30": t.last_30, "last_90": t.last_90} for t in report.engagement.by_type}
    assert got == want
    assert report.engagement.last_30 == sum(w["last_30"] for w in want.values())
    assert report.engagement.last_90 == sum(w["last_90"] for w in want.values())
    assert report.engagement.total == sum(w["total"] for w in want.values())
    # The meeting logged only on a contact counts; the call on both company and contact counts once.
    assert want["meetings"]["total"] == len(portal.associated("companies", "meetings", planted.company_id)) + 1
    assert want["calls"]["total"] == len(portal.associated("companies", "calls", planted.company_id))
    stamps = [int(portal.objects[kind][i].properties["hs_timestamp"]) for kind in ("calls", "emails", "meetings",
              "notes", "tasks") for i in set(portal.associated("companies", kind, planted.company_id))]
    latest = max([s for s in stamps if s <= NOW_MS] + [NOW_MS - 2 * 86_400_000])
    assert report.engagement.days_since_last == pytest.approx((NOW_MS - latest) / 86_400_000, abs=0.06)


def test_open_deal_stage_label_journey_stage_and_target(report: AccountReadiness,
                                                        planted_portal: tuple[Portal, Planted]) -> None:
    _, planted = planted_portal
    assert [d.id for d in report.open_deals] == [str(planted.open_deal_id)]
    deal = report.open_deals[0]
    assert (deal.stage_label, deal.journey_stage_id, deal.journey_stage_name) == (
        "Qualified To Buy", "consideration", "Consideration")
    assert deal.days_in_stage == pytest.approx(25.0) and deal.target_days == 18 and deal.over_target
    assert report.closed_deals == len(planted.closed_deal_ids)
    assert (report.journey_stage_id, report.journey_stage_source) == ("consideration", "deal")


def test_score_components_add_up(report: AccountReadiness) -> None:
    parts = {c.name: c for c in report.components}
    assert set(parts) == set(WEIGHTS) and sum(WEIGHTS.values()) == 100
    assert parts["committee_coverage"].value == pytest.approx(4 / 5)
    assert parts["deal_progress"].value == pytest.approx(1 - 7 / 18, abs=1e-3)
    assert parts["engagement_recency"].value == 1.0
    assert report.score == round(sum(c.points for c in report.components))
    assert 0 <= report.score <= 100


def test_no_email_or_phone_in_output(report: AccountReadiness, planted_portal: tuple[Portal, Planted]) -> None:
    portal, planted = planted_portal
    text = json.dumps(report.to_dict())
    assert not EMAIL.search(text) and not PHONE.search(text)
    rendered = render(report)
    assert not EMAIL.search(rendered) and not PHONE.search(rendered)
    for contact_id in planted.contact_ids:
        props = portal.objects["contacts"][contact_id].properties
        assert str(props["email"]) not in text and str(props["phone"]) not in text
    assert "technical-evaluator" in rendered.lower() or "Technical evaluator" in rendered


@pytest.mark.parametrize("query", [
    PLANTED_DOMAIN, f"https://www.{PLANTED_DOMAIN}/about", "quasar dynamics inc", "Quasar Dynamcs",
])
def test_lookup_by_domain_and_forgiving_name(skill_ctx: SkillContext, planted_portal: tuple[Portal, Planted],
                                             query: str) -> None:
    result = run_account(skill_ctx, query)
    assert isinstance(result, AccountReadiness) and result.company_id == str(planted_portal[1].company_id)


@pytest.mark.parametrize("template", [
    "{id}", "https://app.hubspot.com/contacts/4242424/company/{id}",
    "https://app-eu1.hubspot.com/contacts/4242424/record/0-2/{id}/view/1",
])
def test_lookup_by_id_and_record_url_reads_no_company_list(skill_ctx: SkillContext, skill_server: SandboxServer,
                                                           planted_portal: tuple[Portal, Planted],
                                                           template: str) -> None:
    skill_server.reset_counters()
    result = run_account(skill_ctx, template.format(id=planted_portal[1].company_id))
    assert isinstance(result, AccountReadiness) and result.name == PLANTED_NAME
    assert skill_server.counts["list:companies"] == 0 and skill_server.counts["search:companies"] == 0


def test_reads_only_the_chosen_company(skill_ctx: SkillContext, skill_server: SandboxServer) -> None:
    run_account(skill_ctx, PLANTED_NAME)  # snapshot warm
    skill_server.reset_counters()
    run_account(skill_ctx, PLANTED_NAME)
    counts = skill_server.counts
    assert counts["list:contacts"] == counts["list:deals"] == counts["list:companies"] == 0
    assert counts["batch_read:contacts"] == 1 and counts["batch_read:deals"] == 1
    assert skill_server.total_requests <= 25


def test_ambiguous_name_asks_back(skill_ctx: SkillContext) -> None:
    result = run_account(skill_ctx, "Apex")
    assert isinstance(result, AccountChoices)
    assert len(result.candidates) >= 2 and result.total >= len(result.candidates)
    assert all(c.name.startswith("Apex") for c in result.candidates)
    assert "which one" in render(result)
    assert json.loads(json.dumps(result.to_dict()))["kind"] == "account_choices"


@pytest.mark.parametrize(("query", "fragment"), [
    ("Zzyzx Nonexistent Holdings", "no company in HubSpot matches"),
    ("nosuchcompany.example.org", "no company in HubSpot matches the domain"),
    ("999", "no company with HubSpot id 999"),
    ("https://app.hubspot.com/contacts/1/deal/3000000001", "use `deal`"),
    ("   ", "needs a company"),
])
def test_unknown_account_is_a_clear_input_error(skill_ctx: SkillContext, query: str, fragment: str) -> None:
    with pytest.raises(SkillInputError, match=re.escape(fragment)):
        run_account(skill_ctx, query)


def test_dispatch_through_the_registry(skill_ctx: SkillContext) -> None:
    registry = Registry()
    registry.add(SKILL)
    result = registry.dispatch(skill_ctx, "account", PLANTED_NAME)
    assert isinstance(result, AccountReadiness) and result.name == PLANTED_NAME
    assert SKILL.needs_crm and SKILL.args[0].positional and SKILL.args[0].required


def test_the_readiness_says_as_of_when_the_crm_was_read(report: AccountReadiness) -> None:
    from cli.text import render_text
    from tests.skills.account_fixtures import NOW

    assert report.as_of == NOW and report.to_dict()["as_of"] == NOW.isoformat()
    assert f"as of {NOW:%Y-%m-%d %H:%M} UTC" in (render_text(report) or "")
