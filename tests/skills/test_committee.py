"""The buying committee per stakeholder (issue #11): a persona is engaged only when one of
its contacts was involved in recent activity, a known but silent stakeholder is its own
state with its own next action, and one contact may fill several personas (a CFO who is
budget holder and decision maker). Real sandbox, real gateway, the sample map."""

from __future__ import annotations

import json

import pytest

from cli.text.account import render as account_text
from cli.text.deal import render as deal_text
from sandbox.model import Portal
from skills.account import AccountReadiness, run_account
from skills.context import SkillContext
from skills.deal import DealContent, run_deal
from tests.skills.account_fixtures import (  # noqa: F401  (fixtures)
    COMMITTEE_DEAL,
    COMMITTEE_NAME,
    EMAIL,
    PHONE,
    Committee,
    Planted,
    planted_portal,
    skill_ctx,
    skill_server,
)


@pytest.fixture(scope="module")
def committee(planted_portal: tuple[Portal, Planted]) -> Committee:
    planted = planted_portal[1].committee
    assert planted is not None
    return planted


@pytest.fixture(scope="module")
def report(skill_ctx: SkillContext) -> AccountReadiness:
    result = run_account(skill_ctx, COMMITTEE_NAME)
    assert isinstance(result, AccountReadiness)
    return result


def test_a_stakeholder_silent_for_150_days_is_not_engaged(report: AccountReadiness, committee: Committee,
                                                         skill_ctx: SkillContext) -> None:
    coverage = {c.persona_id: c for c in report.committee}
    tech = coverage["technical-evaluator"]
    assert (tech.engaged, tech.state) == (False, "silent")
    assert tech.days_silent == pytest.approx(150.0, abs=0.1)
    assert [s.contact_id for s in tech.seats] == [str(committee.contact_ids[3])]
    assert tech.seats[0].recent_engagements == 0 and not tech.seats[0].engaged
    assert report.silent_personas == ["technical-evaluator"] and report.missing_personas == []
    assert sorted(report.engaged_personas) == ["champion", "economic-buyer", "end-user", "finance"]
    assert all(coverage[p].state == "engaged" for p in report.engaged_personas)
    window = skill_ctx.settings.account_engaged_days
    parts = {c.name: c for c in report.components}
    assert parts["committee_coverage"].value == pytest.approx(4 / 5)
    assert f"in the last {window} days" in parts["committee_coverage"].detail
    assert "silent" in parts["committee_coverage"].detail


def test_silent_stakeholder_gets_its_own_next_best_action(report: AccountReadiness) -> None:
    actions = [(a.kind, a.persona_id) for a in report.next_actions]
    assert ("re_engage", "technical-evaluator") in actions
    assert not [a for a in actions if a[0] == "multi_thread"]  # nobody is missing
    assert ("send_content", "technical-evaluator") not in actions
    revive = next(a for a in report.next_actions if a.kind == "re_engage")
    assert "silent for 150 days" in revive.why and revive.assets


def test_the_window_is_a_setting(skill_ctx: SkillContext) -> None:
    wide = SkillContext(skill_ctx.settings.model_copy(update={"account_engaged_days": 200}), skill_ctx.knowledge,
                        clock=skill_ctx.clock)
    wide.gateway = skill_ctx.gateway  # type: ignore[misc]
    result = run_account(wide, COMMITTEE_NAME)
    assert isinstance(result, AccountReadiness)
    assert result.silent_personas == [] and "technical-evaluator" in result.engaged_personas


def test_one_contact_fills_several_personas(report: AccountReadiness, committee: Committee) -> None:
    cfo = next(m for m in report.contacts if m.contact_id == str(committee.contact_ids[0]))
    assert [(p.persona_id, p.matched_by) for p in cfo.personas] == [
        ("economic-buyer", "buying_role"), ("finance", "buying_role")]
    assert cfo.persona_id == "economic-buyer"  # the first, as before
    coverage = {c.persona_id: c for c in report.committee}
    for persona, other in (("economic-buyer", "finance"), ("finance", "economic-buyer")):
        seat = next(s for s in coverage[persona].seats if s.contact_id == cfo.contact_id)
        assert seat.also == [other] and seat.engaged
    assert cfo.name in coverage["finance"].contacts and cfo.name in coverage["economic-buyer"].contacts
    text = account_text(report)
    assert "also finance" in text and "also economic-buyer" in text


def test_deal_counts_a_contact_in_every_persona_it_fills(skill_ctx: SkillContext, committee: Committee) -> None:
    result = run_deal(skill_ctx, COMMITTEE_DEAL)
    assert isinstance(result, DealContent)
    assert [p.persona_id for p in result.personas] == ["economic-buyer", "end-user", "finance"]
    assert "finance" not in [n.persona_id for n in result.not_yet_engaged]
    finance = next(p for p in result.personas if p.persona_id == "finance")
    assert [m.contact_id for m in finance.contacts] == [str(committee.contact_ids[0])] and finance.assets
    assert "finance" in deal_text(result).lower()


def test_no_email_or_phone_in_the_committee_view(report: AccountReadiness) -> None:
    for blob in (json.dumps(report.to_dict()), account_text(report)):
        assert not EMAIL.search(blob) and not PHONE.search(blob)
