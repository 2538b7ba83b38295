"""`deal`: what to send to whom on one deal. Deal stage -> journey stage (through the map's
`hubspot.deal_stages`) -> for each associated contact's persona, the assets that answer
that persona's questions at the stage, plus the exit criteria to aim for.

An unmapped deal stage is said plainly rather than guessed from the label.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from knowledge.models import JourneyMap, Stage
from skills.account_lookup import Ambiguous, AssetPick, Candidate, RecordFinder, pick_assets
from skills.buying_committee import CommitteeMember, committee_members, fills
from skills.context import SkillContext
from skills.crm import CrmGateway
from skills.crm.records import Deal
from skills.registry import Arg, Skill
from skills.stage_map import journey_stage_for

TOP_QUESTIONS = 6
ASSETS_PER_PERSONA = 3


@dataclass
class DealChoices:
    """Several deals fit what was typed: the bot asks which one."""

    query: str
    candidates: list[Candidate]
    total: int
    message: str
    kind: str = "deal_choices"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(kw_only=True)
class DealSummary:
    id: str
    name: str
    amount: float | None
    pipeline: str
    stage_id: str
    stage_label: str
    is_closed: bool
    is_won: bool
    days_in_stage: float | None
    company_id: str | None
    company_name: str | None
    stage_entered_at: dt.datetime | None = None  # when it entered its current stage ("Sent it" keys on it)


@dataclass
class QuestionRef:
    id: str
    text: str
    personas: list[str]  # empty = every persona asks it
    answered_by: list[str]  # asset titles


@dataclass(kw_only=True)
class PersonaContent:
    persona_id: str
    persona_name: str
    contacts: list[CommitteeMember]
    motivation: str | None  # what moves this persona at the stage (from the map)
    assets: list[AssetPick]


@dataclass
class NotEngaged:
    persona_id: str
    persona_name: str
    why: str


@dataclass(kw_only=True)
class DealContent:
    """The content plan of one deal; the journey-stage fields stay empty while its deal
    stage is not mapped to a journey stage."""

    deal: DealSummary
    mapped: bool
    mapping_note: str
    personas: list[PersonaContent]
    not_yet_engaged: list[NotEngaged]
    unmatched_contacts: list[CommitteeMember]
    journey_stage_id: str | None = None
    journey_stage_name: str | None = None
    target_days: float | None = None
    over_target: bool | None = None
    questions: list[QuestionRef] = field(default_factory=list)
    handoff_criteria: list[str] = field(default_factory=list)
    trigger_out: str | None = None
    kind: str = "deal_content"
    as_of: dt.datetime | None = None  # when the CRM was read

    def to_dict(self) -> dict[str, Any]:
        out = {**asdict(self), "as_of": self.as_of.isoformat() if self.as_of else None}
        entered = self.deal.stage_entered_at
        out["deal"]["stage_entered_at"] = entered.isoformat() if entered else None
        return out

    def thread_facts(self) -> dict[str, str | None]:
        return {"account": self.deal.company_id, "deal": self.deal.id, "stage_id": self.journey_stage_id}


def run_deal(ctx: SkillContext, deal: str) -> DealContent | DealChoices:
    gateway = ctx.gateway
    labels = {(p.id, s.id): (p.label, s.label) for p in gateway.pipelines() for s in p.stages}
    found = find_deal(gateway, deal, labels)
    if isinstance(found, DealChoices):
        return found
    contact_ids = gateway.deal_contacts([found.id]).get(found.id, ())
    contacts = gateway.contacts_by_id(contact_ids) if contact_ids else []
    company_ids = gateway.associations("deals", "companies", [found.id]).get(found.id, ())
    company = gateway.company(company_ids[0]) if company_ids else None
    pipeline, label = labels.get((found.pipeline_id, found.stage_id), (found.pipeline_id, found.stage_id))
    days = found.days_in_current_stage(ctx.now)
    summary = DealSummary(id=found.id, name=found.name, amount=found.amount, pipeline=pipeline, stage_id=found.stage_id,
                          stage_label=label, is_closed=found.is_closed, is_won=found.is_won,
                          days_in_stage=None if days is None else round(days, 1),
                          company_id=company.id if company else None, company_name=company.name if company else None,
                          stage_entered_at=found.entered_current_stage)
    return replace(deal_content(ctx.journey_map, summary, committee_members(ctx.journey_map, contacts)), as_of=ctx.now)


def find_deal(gateway: CrmGateway, text: str, labels: dict[tuple[str, str], tuple[str, str]]) -> Deal | DealChoices:
    """By HubSpot URL or id (one read), else by name over the cached deal list."""
    found = RecordFinder("deal", "deals", "deal", gateway.deal, gateway.deals).find(text)
    if not isinstance(found, Ambiguous):
        return found
    candidates = []
    for d, score in found.fits:
        stage = labels.get((d.pipeline_id, d.stage_id), ("", d.stage_id))[1]
        amount = f", {d.amount:,.0f}" if d.amount is not None else ""
        candidates.append(Candidate(d.id, d.name, f"{stage}{amount}", score))
    return DealChoices(found.query, candidates, found.total, found.message)


def deal_content(journey_map: JourneyMap, deal: DealSummary, people: Sequence[CommitteeMember]) -> DealContent:
    """The content plan from the deal and its people (pure: no CRM calls). A contact counts
    for every persona it fills: a CFO who also decides covers finance and the economic buyer."""
    stage = journey_stage_for(journey_map, deal.stage_id)
    engaged = [p for p in journey_map.personas if any(fills(m, p.id) for m in people)]
    unmatched = [m for m in people if not m.personas]
    if stage is None:
        note = (f"Deal stage “{deal.stage_label}” ({deal.stage_id}, pipeline {deal.pipeline}) is not mapped to "
                f"any journey stage in the map “{journey_map.name}”; add it to a stage's hubspot.deal_stages. "
                "No stage content can be recommended until then.")
        personas = [PersonaContent(persona_id=p.id, persona_name=p.name, contacts=[m for m in people if fills(m, p.id)],
                                   motivation=None, assets=[]) for p in engaged]
        missing = [NotEngaged(p.id, p.name, "no contact on this deal") for p in journey_map.personas
                   if p not in engaged]
        return DealContent(deal=deal, mapped=False, mapping_note=note, personas=personas, not_yet_engaged=missing,
                           unmatched_contacts=unmatched)
    note = f"Deal stage “{deal.stage_label}” maps to the journey stage {stage.name}."
    personas = [PersonaContent(persona_id=p.id, persona_name=p.name, contacts=[m for m in people if fills(m, p.id)],
                               motivation=p.stage_motivations.get(stage.id),
                               assets=pick_assets(journey_map, stage, p, ASSETS_PER_PERSONA))
                for p in engaged]
    missing = [NotEngaged(p.id, p.name, p.stage_motivations.get(stage.id) or
                          f"asks {sum(1 for q in stage.questions if p.id in q.personas)} of this stage's questions")
               for p in journey_map.personas if p not in engaged]
    over = None if deal.days_in_stage is None or deal.is_closed else deal.days_in_stage > stage.target_days_in_stage
    return DealContent(deal=deal, mapped=True, mapping_note=note, personas=personas, not_yet_engaged=missing,
                       unmatched_contacts=unmatched, journey_stage_id=stage.id, journey_stage_name=stage.name,
                       target_days=stage.target_days_in_stage, over_target=over,
                       questions=top_questions(journey_map, stage, {p.id for p in engaged}),
                       handoff_criteria=list(stage.handoff_criteria), trigger_out=stage.trigger_out)


def top_questions(journey_map: JourneyMap, stage: Stage, engaged: set[str]) -> list[QuestionRef]:
    """The stage's questions the people on this deal ask first (universal ones count for
    everyone), then the rest, in the map's order."""
    answered: dict[str, list[str]] = {}
    for asset in journey_map.assets:
        if stage.id in asset.stages:
            for q in asset.answers:
                answered.setdefault(q, []).append(asset.title)

    def weight(q: Any) -> int:
        return len(engaged) if not q.personas else len(engaged.intersection(q.personas))

    ranked = sorted(enumerate(stage.questions), key=lambda pair: (-weight(pair[1]), pair[0]))
    return [QuestionRef(q.id, q.text, list(q.personas), answered.get(q.id, [])) for _, q in ranked[:TOP_QUESTIONS]]


SKILL = Skill(
    name="deal",
    help="What to send on a deal: its journey stage, content per stakeholder, exit criteria.",
    run=run_deal,
    args=(Arg("deal", "deal name, HubSpot id or record URL", positional=True, required=True),),
    needs_crm=True,
    examples=("deal Acme platform renewal", "deal https://app.hubspot.com/contacts/123/record/0-3/456"),
    utterances=(
        "what do I send for the {deal} deal?",
        "status check on the {company} opp",
        "{company} is in negotiation - what do I send legal?",
        "next steps on {deal}",
        "{deal}: what content should go to each stakeholder",
        "help me move the {company} opportunity forward",
        "what should I share on the {deal} deal this week",
        "hi, the {company} deal is stuck, what would help?",
        "what are the exit criteria for {deal}",
        "{company} opp - which assets for the buyers on it?",
        "what's missing on the {company} deal to close",
        "waht do i send for {deal}",
        "which questions will the buyers on {deal} ask next",
        "prep me for the {company} deal review",
        "content for each person on the {deal} opportunity",
        "the {company} deal just moved to contract, what now",
        'best next asset for {deal}',
        'what do I send on {deal} now',
        "{deal}: who on their side hasn't got content yet",
        'before the {company} kickoff, what should their team get from us',
        "we're in contract review on the {company} opp, what helps",
        'which stakeholders on the {deal} opportunity still need content',
        '{deal} is stuck in evaluation, anything to unblock it',
        '{company} renewal - finance pushing back on pricing',
        'where is {deal} in the journey and what comes next',
        'what does the buying committee on {deal} still need from us',
        '{company} deal - the CFO wants numbers, what do I give them',
        'content plan for the {deal} deal',
        'what stage is {deal} in and what should I send',
        '{deal} exit criteria and missing roles',
        'any assets for the people on the {company} upsell?',
        'nxt steps for the {company} opp?',
    ),
)
