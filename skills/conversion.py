"""Stage-to-stage conversion per journey stage, from the CRM, for ranking content gaps.

The velocity computation gives conversion per deal stage; deal stages mapped to the same
journey stage are pooled (entered and advanced summed) over a longer window than a week,
so the ranking rests on enough deals.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from knowledge.models import JourneyMap
from skills.context import SkillContext
from skills.stage_map import journey_stage_for
from skills.velocity import compute_velocity
from skills.velocity_report import VelocityReport, Window

CONVERSION_WINDOW_DAYS = 90


def journey_conversion(report: VelocityReport, journey_map: JourneyMap) -> dict[str, float]:
    entered: dict[str, int] = defaultdict(int)
    advanced: dict[str, int] = defaultdict(int)
    for section in report.pipelines:
        for stage in section.stages:
            journey_stage = journey_stage_for(journey_map, stage.stage_id)
            if journey_stage is None:
                continue
            entered[journey_stage.id] += stage.conversion.entered
            advanced[journey_stage.id] += stage.conversion.advanced
    return {sid: advanced[sid] / n for sid, n in entered.items() if n}


def conversion_from_crm(ctx: SkillContext, days: int = CONVERSION_WINDOW_DAYS) -> dict[str, float]:
    """Conversion of the deals that entered each journey stage in the last `days`."""
    now = ctx.now
    window = Window(now - dt.timedelta(days=days), now)
    gateway = ctx.gateway
    report = compute_velocity(gateway.deals(), gateway.pipelines(), gateway.owners(), ctx.journey_map, window, now)
    return journey_conversion(report, ctx.journey_map)
