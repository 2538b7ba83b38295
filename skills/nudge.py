"""The deal nudge: what a rep needs the moment a deal enters a stage (or overstays it),
built from the same content plan as the `deal` skill (skills.deal.deal_content): the
journey stage and what it means, exit criteria, assets per stakeholder, the committee
roles still missing with an asset for each, the buyer questions to get ahead of, and days
in stage against the stage's target. An unmapped deal stage is said plainly.

A plain result (no Slack here); it carries the owner's CRM id, never an email.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from knowledge.models import JourneyMap
from skills.account_lookup import AssetPick, pick_assets
from skills.buying_committee import CommitteeMember, committee_members
from skills.crm import CrmGateway
from skills.crm.records import Deal
from skills.deal import DealSummary, PersonaContent, QuestionRef, deal_content
from skills.stage_map import journey_stage_for

KIND_TEXT = {"entered": "entered a new stage", "overdue_1x": "is past its stage target",
             "overdue_2x": "is at twice its stage target"}


@dataclass
class MissingRole:
    """A buying-committee role with no contact on the deal, and the asset to bring them in."""

    persona_id: str
    persona_name: str
    why: str
    asset: AssetPick | None


@dataclass(kw_only=True)
class Nudge:
    key: str  # the ledger key: deal, stage entry, kind
    kind: str  # entered | overdue_1x | overdue_2x
    deal_id: str
    deal_name: str
    company_name: str | None
    owner_id: str | None
    pipeline: str
    stage_id: str
    stage_label: str
    mapped: bool
    mapping_note: str
    journey_stage_id: str | None = None
    journey_stage_name: str | None = None
    journey_stage_meaning: str | None = None
    exit_criteria: list[str] = field(default_factory=list)
    trigger_out: str | None = None
    stakeholders: list[PersonaContent] = field(default_factory=list)
    missing_roles: list[MissingRole] = field(default_factory=list)
    unmatched_contacts: list[CommitteeMember] = field(default_factory=list)
    questions: list[QuestionRef] = field(default_factory=list)
    days_in_stage: float | None = None
    target_days: float | None = None
    as_of: dt.datetime | None = None
    stage_entered_at: dt.datetime | None = None  # "Sent it" on the nudge keys on this stage entry

    @property
    def headline(self) -> str:
        company = f" ({self.company_name})" if self.company_name else ""
        return f"{self.deal_name}{company} {KIND_TEXT.get(self.kind, self.kind)}: {self.stage_label}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "as_of": self.as_of.isoformat() if self.as_of else None, "headline": self.headline,
                "stage_entered_at": self.stage_entered_at.isoformat() if self.stage_entered_at else None}


def build_nudge(journey_map: JourneyMap, deal: Deal, people: list[CommitteeMember], *, kind: str, key: str,
                stage_label: str, pipeline: str, company_name: str | None, now: dt.datetime) -> Nudge:
    """The nudge from the deal and its people (pure: no CRM calls)."""
    days = deal.days_in_current_stage(now)
    summary = DealSummary(id=deal.id, name=deal.name, amount=deal.amount, pipeline=pipeline, stage_id=deal.stage_id,
                          stage_label=stage_label, is_closed=deal.is_closed, is_won=deal.is_won,
                          days_in_stage=None if days is None else round(days, 1), company_id=None,
                          company_name=company_name, stage_entered_at=deal.entered_current_stage)
    plan = deal_content(journey_map, summary, people)
    stage = journey_stage_for(journey_map, deal.stage_id)
    missing = []
    for gap in plan.not_yet_engaged:
        picks = pick_assets(journey_map, stage, journey_map.persona(gap.persona_id), 1) if stage else []
        missing.append(MissingRole(gap.persona_id, gap.persona_name, gap.why, picks[0] if picks else None))
    return Nudge(key=key, kind=kind, deal_id=deal.id, deal_name=deal.name, company_name=company_name,
                 owner_id=deal.owner_id, pipeline=pipeline, stage_id=deal.stage_id, stage_label=stage_label,
                 mapped=plan.mapped, mapping_note=plan.mapping_note, journey_stage_id=plan.journey_stage_id,
                 journey_stage_name=plan.journey_stage_name, journey_stage_meaning=stage.definition if stage else None,
                 exit_criteria=plan.handoff_criteria, trigger_out=plan.trigger_out, stakeholders=plan.personas,
                 missing_roles=missing, unmatched_contacts=plan.unmatched_contacts, questions=plan.questions,
                 days_in_stage=summary.days_in_stage, target_days=plan.target_days, as_of=now,
                 stage_entered_at=deal.entered_current_stage)


def load_nudge(gateway: CrmGateway, journey_map: JourneyMap, deal: Deal, *, kind: str, key: str,
               now: dt.datetime) -> Nudge:
    """The nudge for a deal read just now: its contacts and company from the CRM."""
    labels = {(p.id, s.id): (p.label, s.label) for p in gateway.pipelines() for s in p.stages}
    pipeline, label = labels.get((deal.pipeline_id, deal.stage_id), (deal.pipeline_id, deal.stage_id))
    contact_ids = gateway.deal_contacts([deal.id]).get(deal.id, ())
    contacts = gateway.contacts_by_id(contact_ids) if contact_ids else []
    company_ids = gateway.associations("deals", "companies", [deal.id]).get(deal.id, ())
    company = gateway.company(company_ids[0]) if company_ids else None
    return build_nudge(journey_map, deal, committee_members(journey_map, contacts), kind=kind, key=key,
                       stage_label=label, pipeline=pipeline, company_name=company.name if company else None, now=now)
