"""Between the CRM's deal stages and the journey map's stages.

A deal stage maps to the journey stage whose `hubspot.deal_stages` lists it; its target
days in stage is that journey stage's target (a journey stage spanning three deal stages
gives each the same target: the map has no finer number).
"""

from __future__ import annotations

from knowledge.models import JourneyMap, Stage


def journey_stage_for(journey_map: JourneyMap, deal_stage_id: str) -> Stage | None:
    for stage in journey_map.stages:
        if deal_stage_id in stage.hubspot.deal_stages:
            return stage
    return None


def target_days_for(journey_map: JourneyMap, deal_stage_id: str) -> float | None:
    stage = journey_stage_for(journey_map, deal_stage_id)
    return stage.target_days_in_stage if stage else None


def journey_stage_for_lifecycle(journey_map: JourneyMap, lifecycle_stage: str) -> Stage | None:
    """The first journey stage mapped to a HubSpot lifecycle stage."""
    for stage in journey_map.stages:
        if lifecycle_stage in stage.hubspot.lifecycle_stages:
            return stage
    return None
