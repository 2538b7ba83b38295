"""One rep's open deals for App Home: CRM stage, days in stage against the target of the
journey stage it maps to, and the next content to send, most overdue first and bounded.

The next content reuses the `deal` skill's plan (skills/deal.py): the top asset for the
first committee role still missing on the deal, else the top asset for the first
stakeholder already on it. The rep is given as a CRM owner id: who that is on Slack is
the bot's business (bot/owners.py), so no email ever reaches this module.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from knowledge.models import JourneyMap
from skills.account_lookup import pick_assets
from skills.buying_committee import committee_members
from skills.context import SkillContext
from skills.crm.records import Contact, Deal
from skills.deal import DealContent, DealSummary, deal_content
from skills.stage_map import journey_stage_for

HOME_DEALS = 10


@dataclass(frozen=True)
class NextContent:
    title: str
    url: str
    for_whom: str  # the persona it is for
    missing: bool  # that persona has nobody on the deal yet


@dataclass(frozen=True)
class OpenDealLine:
    deal_id: str
    name: str
    stage_label: str
    journey_stage: str | None  # None: the deal stage is not mapped in the journey map
    days_in_stage: float | None
    target_days: float | None
    next_content: NextContent | None

    @property
    def over_target(self) -> bool:
        return self.days_in_stage is not None and self.target_days is not None and self.days_in_stage > self.target_days


@dataclass(frozen=True)
class MyOpenDeals:
    deals: tuple[OpenDealLine, ...]  # most overdue first, at most `limit`
    total: int  # open deals the rep owns, shown or not
    as_of: dt.datetime
    kind: str = "my_open_deals"

    @property
    def more(self) -> int:
        return self.total - len(self.deals)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "total": self.total, "more": self.more, "as_of": self.as_of.isoformat(),
                "deals": [{"deal_id": d.deal_id, "name": d.name, "stage": d.stage_label, "journey_stage": d.journey_stage,
                           "days_in_stage": d.days_in_stage, "target_days": d.target_days, "over_target": d.over_target,
                           "next_content": None if d.next_content is None else {
                               "title": d.next_content.title, "url": d.next_content.url,
                               "for": d.next_content.for_whom, "missing": d.next_content.missing}}
                          for d in self.deals]}


def overdue_key(days: float | None, target: float | None) -> tuple[int, float]:
    """Sort key, most overdue first: days over target as a share of the target; deals
    without a target or stage date after every deal that has both, longest in stage first."""
    if days is None:
        return (2, 0.0)
    if target is None or target <= 0:
        return (1, -days)
    return (0, -(days / target))


def my_open_deals(ctx: SkillContext, owner_id: str, limit: int = HOME_DEALS) -> MyOpenDeals:
    gateway, journey_map, now = ctx.gateway, ctx.journey_map, ctx.now
    mine = [d for d in gateway.deals() if d.owner_id == owner_id and not d.is_closed]

    def key(deal: Deal) -> tuple[int, float]:
        stage = journey_stage_for(journey_map, deal.stage_id)
        return overdue_key(deal.days_in_current_stage(now), stage.target_days_in_stage if stage else None)

    shown = sorted(mine, key=lambda d: (key(d), d.name.casefold(), d.id))[:limit]
    if not shown:
        return MyOpenDeals((), len(mine), now)
    labels = {(p.id, s.id): s.label for p in gateway.pipelines() for s in p.stages}
    links = gateway.deal_contacts([d.id for d in shown])
    wanted = sorted({c for d in shown for c in links.get(d.id, ())})
    contacts = {c.id: c for c in gateway.contacts_by_id(wanted)} if wanted else {}
    lines = []
    for deal in shown:
        people = [contacts[c] for c in links.get(deal.id, ()) if c in contacts]
        lines.append(_line(journey_map, deal, labels.get((deal.pipeline_id, deal.stage_id), deal.stage_id), people, now))
    return MyOpenDeals(tuple(lines), len(mine), now)


def _line(journey_map: JourneyMap, deal: Deal, label: str, people: list[Contact], now: dt.datetime) -> OpenDealLine:
    days = deal.days_in_current_stage(now)
    summary = DealSummary(id=deal.id, name=deal.name, amount=deal.amount, pipeline=deal.pipeline_id,
                          stage_id=deal.stage_id, stage_label=label, is_closed=False, is_won=False,
                          days_in_stage=None if days is None else round(days, 1), company_id=None, company_name=None)
    plan = deal_content(journey_map, summary, committee_members(journey_map, people))
    return OpenDealLine(deal.id, deal.name, label, plan.journey_stage_name, summary.days_in_stage, plan.target_days,
                        next_content(journey_map, plan))


def next_content(journey_map: JourneyMap, plan: DealContent) -> NextContent | None:
    """The first missing committee role's top asset, else the first stakeholder's."""
    stage = journey_stage_for(journey_map, plan.deal.stage_id)
    if stage is None:
        return None
    for missing in plan.not_yet_engaged:
        picks = pick_assets(journey_map, stage, journey_map.persona(missing.persona_id), 1)
        if picks:
            return NextContent(picks[0].title, picks[0].url, missing.persona_name, True)
    for persona in plan.personas:
        if persona.assets:
            return NextContent(persona.assets[0].title, persona.assets[0].url, persona.persona_name, False)
    return None
