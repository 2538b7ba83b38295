"""`deal` end to end: real sandbox and gateway, the sample map, the planted account's deal
(an economic buyer, an end user matched by title and one contact with no persona)."""

from __future__ import annotations

import json
import re

import pytest

from cli.text.deal import render
from knowledge.models import JourneyMap
from sandbox.model import Portal
from skills.context import SkillContext
from skills.deal import SKILL, DealChoices, DealContent, run_deal
from skills.registry import SkillInputError
from tests.skills.account_fixtures import (  # noqa: F401  (fixtures)
    EMAIL,
    PHONE,
    PLANTED_NAME,
    Planted,
    planted_portal,
    skill_ctx,
    skill_server,
)


@pytest.fixture(scope="module")
def content(skill_ctx: SkillContext) -> DealContent:
    result = run_deal(skill_ctx, "Quasar Platform rollout")
    assert isinstance(result, DealContent)
    return result


def test_stage_label_to_journey_stage_with_target(content: DealContent) -> None:
    d = content.deal
    assert (d.stage_label, d.pipeline, d.company_name) == ("Qualified To Buy", "Sales Pipeline", PLANTED_NAME)
    assert content.mapped and (content.journey_stage_id, content.journey_stage_name) == ("consideration",
                                                                                         "Consideration")
    assert d.days_in_stage == pytest.approx(25.0) and content.target_days == 18 and content.over_target


def test_assets_per_engaged_persona_answer_their_questions(content: DealContent, skill_ctx: SkillContext) -> None:
    journey_map: JourneyMap = skill_ctx.journey_map
    stage = journey_map.stage("consideration")
    assert [p.persona_id for p in content.personas] == ["economic-buyer", "end-user"]
    by_rule = {p.persona_id: {m.matched_by for m in p.contacts} for p in content.personas}
    assert by_rule == {"economic-buyer": {"buying_role"}, "end-user": {"job_title"}}
    texts = {q.id: q for q in stage.questions}
    assets = {a.id: a for a in journey_map.assets}
    for persona in content.personas:
        assert persona.assets and persona.motivation == journey_map.persona(persona.persona_id
                                                                            ).stage_motivations.get("consideration")
        for pick in persona.assets:
            asset = assets[pick.id]
            assert "consideration" in asset.stages and pick.url == str(asset.url) and pick.title == asset.title
            assert not asset.personas or persona.persona_id in asset.personas
            answered = [texts[q].text for q in asset.answers if q in texts]
            assert any(f"“{t}”" in pick.why for t in answered) if answered else pick.why


def test_committee_without_a_contact_on_the_deal_is_not_yet_engaged(content: DealContent) -> None:
    # The champion and finance have contacts at the company but not on this deal.
    assert [n.persona_id for n in content.not_yet_engaged] == ["technical-evaluator", "finance", "champion"]
    assert "integration" in content.not_yet_engaged[0].why.lower()
    assert [m.job_title for m in content.unmatched_contacts] == ["Office Manager"]


def test_questions_and_exit_criteria(content: DealContent, skill_ctx: SkillContext) -> None:
    stage = skill_ctx.journey_map.stage("consideration")
    assert content.handoff_criteria == stage.handoff_criteria and content.trigger_out == stage.trigger_out
    assert 0 < len(content.questions) <= 6
    first = content.questions[0]
    assert not first.personas or {"economic-buyer", "end-user"} & set(first.personas)
    assert {q.id for q in content.questions} <= {q.id for q in stage.questions}


def test_output_is_json_safe_without_contact_details(content: DealContent) -> None:
    text = json.dumps(content.to_dict())
    rendered = render(content)
    for out in (text, rendered):
        assert not EMAIL.search(out) and not PHONE.search(out)
    assert "Not yet engaged" in rendered and "Technical evaluator" in rendered


def test_lookup_by_id_and_urls(skill_ctx: SkillContext, planted_portal: tuple[Portal, Planted]) -> None:
    deal_id = planted_portal[1].open_deal_id
    for query in (str(deal_id), f"https://app.hubspot.com/contacts/4242424/deal/{deal_id}",
                  f"https://app.hubspot.com/contacts/4242424/record/0-3/{deal_id}"):
        result = run_deal(skill_ctx, query)
        assert isinstance(result, DealContent) and result.deal.id == str(deal_id)


def test_unmapped_stage_is_said_plainly(skill_ctx: SkillContext, planted_portal: tuple[Portal, Planted]) -> None:
    portal = planted_portal[0]
    renewal = next(d for d in portal.records("deals") if d.properties["pipeline"] == "renewals"
                   and d.properties["hs_is_closed"] == "false")
    result = run_deal(skill_ctx, str(renewal.id))
    assert isinstance(result, DealContent) and not result.mapped
    assert "not mapped" in result.mapping_note and result.deal.stage_id in result.mapping_note
    assert result.questions == [] and all(p.assets == [] for p in result.personas)
    assert "not mapped" in render(result)


def test_ambiguous_name_asks_back(skill_ctx: SkillContext) -> None:
    result = run_deal(skill_ctx, "Platform")
    assert isinstance(result, DealChoices) and len(result.candidates) >= 2
    assert all("Platform" in c.name for c in result.candidates)
    assert "which one" in render(result)


@pytest.mark.parametrize(("query", "fragment"), [
    ("Zzyzx nonexistent opportunity", "no deal in HubSpot matches"),
    ("12", "no deal with HubSpot id 12"),
    ("https://app.hubspot.com/contacts/1/company/1000000001", "use `account`"),
])
def test_unknown_deal_is_a_clear_input_error(skill_ctx: SkillContext, query: str, fragment: str) -> None:
    with pytest.raises(SkillInputError, match=re.escape(fragment)):
        run_deal(skill_ctx, query)


def test_skill_declaration() -> None:
    assert SKILL.name == "deal" and SKILL.needs_crm and SKILL.args[0].positional and SKILL.args[0].required
