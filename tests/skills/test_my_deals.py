"""App Home's deal list order and its next content, from the `deal` skill's plan."""

from __future__ import annotations

from knowledge.validation import load_map
from skills.deal import DealSummary, deal_content
from skills.my_deals import next_content, overdue_key
from tests.conftest import SAMPLE_MAP


def test_most_overdue_first_then_no_target_then_no_date() -> None:
    rows = {"3x over": (42.0, 14.0), "2x over": (36.0, 18.0), "on time": (5.0, 14.0), "no target long": (90.0, None),
            "no target short": (3.0, None), "no date": (None, 14.0)}
    ranked = sorted(rows, key=lambda name: overdue_key(*rows[name]))
    assert ranked == ["3x over", "2x over", "on time", "no target long", "no target short", "no date"]


def summary(stage_id: str) -> DealSummary:
    return DealSummary(id="1", name="Deal", amount=None, pipeline="default", stage_id=stage_id, stage_label=stage_id,
                       is_closed=False, is_won=False, days_in_stage=3.0, company_id=None, company_name=None)


def test_next_content_is_for_the_first_missing_role_and_none_when_unmapped() -> None:
    journey_map = load_map(SAMPLE_MAP).journey_map
    plan = deal_content(journey_map, summary("presentationscheduled"), [])
    chosen = next_content(journey_map, plan)
    first_missing = plan.not_yet_engaged[0]
    assert chosen is not None and chosen.missing and chosen.for_whom == first_missing.persona_name
    stage = next(s for s in journey_map.stages if "presentationscheduled" in s.hubspot.deal_stages)
    stage_assets = [a.title for a in journey_map.assets if stage.id in a.stages]
    assert chosen.title in stage_assets
    assert next_content(journey_map, deal_content(journey_map, summary("no-such-stage"), [])) is None
