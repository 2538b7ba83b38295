"""Deals moving through stages after the portal was generated, recorded as HubSpot records
a move: the stage property and its history, the stage's entered/exited dates, the closed
flags and the last-modified time (so an incremental sync finds the deal).

Plain functions on a Portal, for tests in-process; the server wraps them in its lock and
its admin endpoints, and sends webhooks for each move when configured to.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sandbox.model import CrmObject, PipelineDef, Portal, StageDef


class StageMoveError(ValueError):
    """A move HubSpot would refuse: unknown deal, a stage outside its pipeline, time going back."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing  # the deal does not exist


@dataclass(frozen=True, slots=True)
class StageMove:
    deal_id: int
    from_stage: str
    to_stage: str
    at_ms: int

    def to_dict(self) -> dict[str, str | int]:
        return {"dealId": str(self.deal_id), "fromStage": self.from_stage, "toStage": self.to_stage, "at": self.at_ms}


def move_deal(portal: Portal, deal_id: int, stage_id: str, at_ms: int) -> StageMove:
    """Put a deal in `stage_id` at `at_ms` (epoch ms), exactly as HubSpot records a move."""
    deal = portal.objects["deals"].get(deal_id)
    if deal is None or deal.archived:
        raise StageMoveError(f"no deal {deal_id}", missing=True)
    pipe = _pipeline(portal, deal)
    stage = next((s for s in pipe.stages if s.id == stage_id), None)
    if stage is None:
        raise StageMoveError(f"stage {stage_id!r} is not in pipeline {pipe.id!r}")
    current = str(deal.properties["dealstage"])
    if stage_id == current:
        raise StageMoveError(f"deal {deal_id} is already in {stage_id!r}")
    history = deal.history.setdefault("dealstage", [])
    if history and at_ms < history[-1][1]:
        raise StageMoveError(f"deal {deal_id} entered its stage after {at_ms}")
    props = deal.properties
    history.append((stage_id, at_ms))
    if "hs_v2_date_entered_current_stage" in props:  # Pro/Enterprise portals record stage dates
        props[f"hs_v2_date_exited_{current}"] = at_ms
        props[f"hs_v2_date_entered_{stage_id}"] = at_ms
        props.pop(f"hs_v2_date_exited_{stage_id}", None)  # a stage entered again is open again
        props["hs_v2_date_entered_current_stage"] = at_ms
        props["hs_v2_time_in_current_stage"] = at_ms
    props["dealstage"] = stage_id
    props["hs_is_closed"] = "true" if stage.is_closed else "false"
    props["hs_is_closed_won"] = "true" if stage.is_won else "false"
    props["hs_deal_stage_probability"] = str(stage.probability)
    if stage.is_closed:
        props["closedate"] = at_ms
    props["hs_lastmodifieddate"] = at_ms
    deal.updated_ms = at_ms
    path = portal.deal_paths.setdefault(deal_id, [])
    if path and path[-1][2] is None:
        path[-1] = (path[-1][0], path[-1][1], at_ms)
    path.append((stage_id, at_ms, None))
    portal.stalled_deal_ids.discard(deal_id)
    return StageMove(deal_id, current, stage_id, at_ms)


def next_stage(portal: Portal, deal_id: int) -> StageDef | None:
    """The stage after the deal's current one (the last open stage leads to won); None when closed."""
    deal = portal.objects["deals"][deal_id]
    pipe = _pipeline(portal, deal)
    current = next(s for s in pipe.stages if s.id == deal.properties["dealstage"])
    if current.is_closed:
        return None
    opened = list(pipe.open_stages)
    index = opened.index(current)
    return opened[index + 1] if index + 1 < len(opened) else pipe.won_stage


def advance_deals(portal: Portal, count: int, at_ms: int, rng: random.Random) -> list[StageMove]:
    """Time passes: `count` random open deals each move one stage forward at `at_ms`."""
    open_ids = [d.id for d in portal.records("deals") if d.properties.get("hs_is_closed") == "false"]
    moves = []
    for deal_id in sorted(rng.sample(open_ids, min(count, len(open_ids)))):
        stage = next_stage(portal, deal_id)
        if stage is not None:
            moves.append(move_deal(portal, deal_id, stage.id, at_ms))
    return moves


def _pipeline(portal: Portal, deal: CrmObject) -> PipelineDef:
    pipe_id = deal.properties.get("pipeline")
    pipe = next((p for p in portal.pipelines if p.id == pipe_id), None)
    if pipe is None:
        raise StageMoveError(f"deal {deal.id} is in no known pipeline")
    return pipe
