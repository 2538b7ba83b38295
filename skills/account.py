"""`account`: how ready one account is to buy, tracked as an account rather than a lead.

Reads the snapshot-cached company list once to find the company, then only that
company's associations, contacts, deals and engagements. Everything reported is
computed from those records; nothing is inferred that the data does not show.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from knowledge.models import JourneyMap, Stage
from skills.account_lookup import Ambiguous, Candidate, RecordFinder, as_domain
from skills.buying_committee import CommitteeMember, PersonaCoverage, committee_coverage, committee_members
from skills.context import SkillContext
from skills.crm import CrmGateway
from skills.crm.records import Company, Contact, Deal, Engagement
from skills.engagement_summary import EngagementSummary, summarize_engagement
from skills.next_actions import NextAction, next_actions
from skills.registry import Arg, Skill
from skills.stage_map import journey_stage_for, journey_stage_for_lifecycle

# Readiness weights (sum 100). Coverage weighs most: enterprise deals stall on the roles
# nobody talks to; recency next, because silence is the earliest warning.
WEIGHTS: dict[str, int] = {"committee_coverage": 35, "engagement_recency": 25, "engagement_frequency": 15,
                           "engagement_trend": 5, "deal_progress": 20}
RECENCY_FULL_DAYS, RECENCY_ZERO_DAYS = 7.0, 60.0  # full marks within a week, none after 60 days
FREQUENCY_FULL_30D = 10  # engagements in 30 days that count as an actively worked account


@dataclass
class AccountChoices:
    """Several companies fit what was typed: the bot asks which one."""

    query: str
    candidates: list[Candidate]
    total: int  # how many matched as closely; candidates lists at most 8
    message: str
    kind: str = "account_choices"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(kw_only=True)
class OpenDeal:
    id: str
    name: str
    amount: float | None
    pipeline: str
    stage_id: str
    stage_label: str
    journey_stage_id: str | None
    journey_stage_name: str | None
    days_in_stage: float | None
    target_days: float | None
    over_target: bool | None


@dataclass
class ScoreComponent:
    name: str
    weight: int
    value: float  # 0..1
    points: float  # weight * value
    detail: str


@dataclass(kw_only=True)
class AccountReadiness:
    company_id: str
    name: str
    domain: str | None
    lifecycle_stage: str | None
    journey_stage_id: str | None
    journey_stage_name: str | None
    journey_stage_source: str  # "deal" (the most advanced open deal), "lifecycle" or "none"
    score: int
    components: list[ScoreComponent]
    committee: list[PersonaCoverage]
    engaged_personas: list[str]
    missing_personas: list[str]  # no contact at all
    contacts: list[CommitteeMember]
    engagement: EngagementSummary
    open_deals: list[OpenDeal]
    closed_deals: int
    next_actions: list[NextAction]
    kind: str = "account_readiness"
    silent_personas: list[str] = field(default_factory=list)  # known contacts, none involved recently
    engaged_days: int = 60  # the window a persona's contacts must have been involved in
    as_of: dt.datetime | None = None  # when the CRM was read

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "as_of": self.as_of.isoformat() if self.as_of else None}

    def thread_facts(self) -> dict[str, str | None]:
        return {"account": self.company_id, "stage_id": self.journey_stage_id}


def run_account(ctx: SkillContext, account: str) -> AccountReadiness | AccountChoices:
    gateway = ctx.gateway
    found = find_company(gateway, account)
    if isinstance(found, AccountChoices):
        return found
    links = gateway.company_associations([found.id])[found.id]
    contacts = gateway.contacts_by_id(links.contact_ids) if links.contact_ids else []
    deals = gateway.deals_by_id(links.deal_ids) if links.deal_ids else []
    engagements = gateway.account_engagements({found.id: links.contact_ids})[found.id]
    labels = {(p.id, s.id): (p.label, s.label) for p in gateway.pipelines() for s in p.stages}
    return assess(ctx.journey_map, found, contacts, deals, engagements, labels, ctx.now,
                  ctx.settings.account_engaged_days)


def find_company(gateway: CrmGateway, text: str) -> Company | AccountChoices:
    """By HubSpot URL or id (one read), else by domain or name over the cached list."""
    found = RecordFinder("company", "companies", "account", gateway.company, gateway.companies, key="domain",
                         key_in=as_domain, key_of=lambda c: c.domain).find(text)
    if not isinstance(found, Ambiguous):
        return found
    candidates = [Candidate(c.id, c.name, c.domain or "", score) for c, score in found.fits]
    return AccountChoices(found.query, candidates, found.total, found.message)


def assess(journey_map: JourneyMap, company: Company, contacts: Sequence[Contact], deals: Sequence[Deal],
           engagements: Sequence[Engagement], labels: dict[tuple[str, str], tuple[str, str]],
           now: dt.datetime, engaged_days: int) -> AccountReadiness:
    """The readiness report from one account's records (pure: no CRM calls)."""
    people = committee_members(journey_map, contacts)
    committee = committee_coverage(journey_map, people, engagements, now, engaged_days)
    activity = summarize_engagement(engagements, now)
    open_deals = [_open_deal(journey_map, d, labels, now) for d in deals if not d.is_closed]
    order = {s.id: s.order for s in journey_map.stages}
    open_deals.sort(key=lambda d: (-order.get(d.journey_stage_id or "", 0), -(d.amount or 0), d.id))
    focus = open_deals[0] if open_deals and open_deals[0].journey_stage_id else None
    stage: Stage | None = journey_map.stage(focus.journey_stage_id) if focus and focus.journey_stage_id else None
    source = "deal" if stage else "none"
    if stage is None and company.lifecycle_stage:
        stage = journey_stage_for_lifecycle(journey_map, company.lifecycle_stage)
        source = "lifecycle" if stage else "none"
    components = _components(committee, activity, focus, engaged_days)
    by_state = {state: [c.persona_id for c in committee if c.state == state]
                for state in ("engaged", "silent", "missing")}
    return AccountReadiness(
        company_id=company.id, name=company.name, domain=company.domain, lifecycle_stage=company.lifecycle_stage,
        journey_stage_id=stage.id if stage else None, journey_stage_name=stage.name if stage else None,
        journey_stage_source=source, score=round(sum(c.points for c in components)), components=components,
        committee=committee, engaged_personas=by_state["engaged"], missing_personas=by_state["missing"],
        silent_personas=by_state["silent"], contacts=people, engagement=activity, open_deals=open_deals,
        closed_deals=sum(1 for d in deals if d.is_closed),
        next_actions=next_actions(journey_map, company, committee, stage, engaged_days), engaged_days=engaged_days,
        as_of=now)


def _open_deal(journey_map: JourneyMap, deal: Deal, labels: dict[tuple[str, str], tuple[str, str]],
               now: dt.datetime) -> OpenDeal:
    pipeline, label = labels.get((deal.pipeline_id, deal.stage_id), (deal.pipeline_id, deal.stage_id))
    stage = journey_stage_for(journey_map, deal.stage_id)
    days = deal.days_in_current_stage(now)
    target = stage.target_days_in_stage if stage else None
    return OpenDeal(id=deal.id, name=deal.name, amount=deal.amount, pipeline=pipeline, stage_id=deal.stage_id,
                    stage_label=label, journey_stage_id=stage.id if stage else None,
                    journey_stage_name=stage.name if stage else None,
                    days_in_stage=None if days is None else round(days, 1), target_days=target,
                    over_target=None if days is None or target is None else days > target)


def _components(committee: list[PersonaCoverage], activity: EngagementSummary,
                focus: OpenDeal | None, engaged_days: int) -> list[ScoreComponent]:
    engaged = [c for c in committee if c.engaged]
    silent = ", ".join(f"{c.persona_name}" + (f" for {c.days_silent:g} days" if c.days_silent is not None else "")
                       for c in committee if c.state == "silent") or "none"
    missing = ", ".join(c.persona_name for c in committee if c.state == "missing") or "none"
    parts: list[tuple[str, float, str]] = [
        ("committee_coverage", len(engaged) / len(committee),
         f"{len(engaged)} of {len(committee)} personas engaged in the last {engaged_days} days "
         f"(silent: {silent}; missing: {missing})")]
    days = activity.days_since_last
    if days is None:
        parts.append(("engagement_recency", 0.0, "no engagement recorded"))
    else:
        value = min(1.0, max(0.0, (RECENCY_ZERO_DAYS - days) / (RECENCY_ZERO_DAYS - RECENCY_FULL_DAYS)))
        parts.append(("engagement_recency", value, f"last engagement {days:g} days ago (full marks within "
                      f"{RECENCY_FULL_DAYS:g}, none after {RECENCY_ZERO_DAYS:g})"))
    parts.append(("engagement_frequency", min(1.0, activity.last_30 / FREQUENCY_FULL_30D),
                  f"{activity.last_30} engagements in the last 30 days ({FREQUENCY_FULL_30D}+ = full marks)"))
    last, prev = activity.last_30, activity.previous_30
    trend = 0.0 if last == 0 else 1.0 if prev == 0 else min(1.0, last / prev)
    parts.append(("engagement_trend", trend, f"{last} in the last 30 days vs {prev} before ({activity.trend})"))
    if focus is None:
        parts.append(("deal_progress", 0.0, "no open deal in a mapped stage"))
    elif focus.days_in_stage is None or focus.target_days is None:
        parts.append(("deal_progress", 0.5, f"{focus.name}: days in stage unknown (half marks)"))
    else:
        over = focus.days_in_stage - focus.target_days
        value = 1.0 if over <= 0 else max(0.0, 1 - over / focus.target_days)
        parts.append(("deal_progress", value, f"{focus.name}: {focus.days_in_stage:g} days in {focus.stage_label} "
                      f"vs target {focus.target_days:g} (zero at twice the target)"))
    return [ScoreComponent(name, WEIGHTS[name], round(v, 3), round(WEIGHTS[name] * v, 1), detail)
            for name, v, detail in parts]


SKILL = Skill(
    name="account",
    help="How ready is an account: committee coverage, engagement, open deals, next best actions.",
    run=run_account,
    args=(Arg("account", "company name, domain, HubSpot id or record URL", positional=True, required=True),),
    needs_crm=True,
    examples=("account Apex Logistics", "account apexlogistics3.example.com",
              "account https://app.hubspot.com/contacts/123/company/456"),
    utterances=(
        "how ready is {company}?",
        "what's the latest on {company}",
        "{company} - how engaged are they?",
        "who do we know at {company}",
        "where do we stand with {company}",
        "anything I should know before my call with {company}?",
        "hi! could you give me an update on the {company} account please",
        "is {company} warming up or going cold",
        "who are we missing in the buying committee at {company}",
        "{company} status?",
        "how hot is {company} right now",
        "give me a rundown of {company} before the QBR",
        "who should I multi-thread with at {company}",
        "hw engaged is {company}",
        "next best action for {company}",
        "who else should we talk to there?",
        "brief me on {company}",
        "how much activity have we had with {company} lately",
        '{company} buying committee - how does it look',
        'open deals at {company}?',
        "{company}: who's engaged and who's gone dark",
        "what's the temperature at {company}",
        'quick pulse check on {company} pls',
        'have we got the economic buyer at {company} involved yet?',
        'show me the committee coverage for {company}',
        'what should my next move be with {company}',
        "catch me up on {company} before tomorrow's meeting",
        'how many people at {company} have we actually talked to',
        '{company} readiness score',
        'is anyone from finance at {company} engaged',
        "who's our main contact at {company} and how active are they",
        'account health for {company}',
        "what's going on with {company}? haven't heard much",
        'give me the {company} account overview',
        'which stakeholders at {company} are we missing',
        'reddiness check on {company}',
    ),
)
