"""`churn`: behavioural churn-risk alerts for customer accounts (domain brief, "Post-purchase
and churn"). Each finding names the account, the behaviour with its numbers, the owner and
the playbook touchpoint to run; rules fire on behaviour (a missed milestone, silence, no
executive touch), never on elapsed time alone.

Playbook mapping (by rule; the map's post-purchase stages are the first stage mapped to
lifecycle "customer" and the ones after it, so offset 0 = onboarding, 1 = adoption,
2 = expansion in the sample map). In the stage at that offset, the first touchpoint whose
"id channel name" contains a keyword, tried in keyword order; else the stage's first
touchpoint:
- first_value -> onboarding, "check-in" / "first-value"   (weekly onboarding check-ins)
- silence -> adoption, "usage-drop" / "outreach"           (usage-drop outreach)
- business_review -> adoption, "day-90" / "business_review" (day 60-90 business review)
- renewal_executive -> expansion, "exec-sponsor" / "executive" (executive sponsor meeting)
- low_nps -> onboarding, "nps"                              (NPS survey follow-up)
- escalations -> adoption, "support" / "escalation"        (support portal)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from config.settings import Settings
from knowledge.models import CommitteeRole, JourneyMap, Stage, Touchpoint
from skills.committee import match_personas
from skills.context import SkillContext
from skills.crm.activity import happened
from skills.crm.records import Company, Contact, Engagement, Owner, owner_names
from skills.registry import Arg, Schedule, Skill, SkillInputError
from skills.stage_map import journey_stage_for_lifecycle

SEVERITIES = ("low", "medium", "high")
RULES = ("first_value", "silence", "business_review", "renewal_executive", "low_nps", "escalations")
PLAYBOOK: dict[str, tuple[int, tuple[str, ...]]] = {
    "first_value": (0, ("check-in", "checkin", "first-value")),
    "silence": (1, ("usage-drop", "outreach")),
    "business_review": (1, ("day-90", "business_review")),
    "renewal_executive": (2, ("exec-sponsor", "executive")),
    "low_nps": (0, ("nps",)),
    "escalations": (1, ("support", "escalation")),
}


@dataclass(frozen=True)
class ChurnRules:
    enabled: tuple[str, ...]
    first_value_days: int = 30
    silence_days: int = 30
    business_review_days: int = 90
    renewal_window_days: int = 90
    nps_threshold: float = 6
    nps_high_threshold: float = 4
    escalations_max: int = 0
    onboarding_window_days: int = 180

    @classmethod
    def from_settings(cls, s: Settings) -> ChurnRules:
        enabled = tuple(r.strip() for r in s.churn_rules.split(",") if r.strip())
        unknown = [r for r in enabled if r not in RULES]
        if unknown:
            raise SkillInputError(f"unknown churn rule(s) {', '.join(unknown)} in JOURNEYBOT_CHURN_RULES; "
                                  f"known: {', '.join(RULES)}")
        return cls(enabled, s.churn_first_value_days, s.churn_silence_days, s.churn_business_review_days,
                   s.churn_renewal_window_days, s.churn_nps_threshold, s.churn_nps_high_threshold,
                   s.churn_escalations_max, s.churn_onboarding_window_days)


@dataclass(frozen=True)
class Playbook:
    touchpoint_id: str
    name: str
    channel: str
    stage_id: str
    stage_name: str

    def to_dict(self) -> dict[str, str]:
        return {"touchpoint_id": self.touchpoint_id, "name": self.name, "channel": self.channel,
                "stage_id": self.stage_id, "stage": self.stage_name}


@dataclass(frozen=True)
class ChurnFinding:
    company_id: str
    account: str
    rule: str
    severity: str
    behaviour: str
    owner_id: str | None
    owner_name: str
    playbook: Playbook | None

    def to_dict(self) -> dict[str, object]:
        return {"company_id": self.company_id, "account": self.account, "rule": self.rule,
                "severity": self.severity, "behaviour": self.behaviour, "owner_id": self.owner_id,
                "owner": self.owner_name, "playbook": self.playbook.to_dict() if self.playbook else None}


@dataclass(frozen=True)
class ChurnReport:
    now: dt.datetime
    min_severity: str
    owner_filter: str | None  # the owner's name when --owner was given
    customers_checked: int
    rules: tuple[str, ...]
    findings: tuple[ChurnFinding, ...]  # high first, then by account

    def to_dict(self) -> dict[str, object]:
        return {"now": self.now.isoformat(), "min_severity": self.min_severity, "owner": self.owner_filter,
                "customers_checked": self.customers_checked, "rules": list(self.rules),
                "accounts_at_risk": len({f.company_id for f in self.findings}),
                "findings": [f.to_dict() for f in self.findings]}


def is_customer(company: Company) -> bool:
    return company.lifecycle_stage == "customer" or company.success.onboarding_start is not None


def playbook_for(journey_map: JourneyMap, rule: str) -> Playbook | None:
    first = journey_stage_for_lifecycle(journey_map, "customer")
    if first is None:
        return None
    post = [s for s in journey_map.stages if s.order >= first.order]
    offset, keywords = PLAYBOOK[rule]
    stage = post[min(offset, len(post) - 1)]
    touchpoints = [t for t in journey_map.touchpoints if stage.id in t.stages]
    if not touchpoints:
        return None
    for word in keywords:
        hit = next((t for t in touchpoints if word in f"{t.id} {t.channel} {t.name}".lower()), None)
        if hit:
            return _playbook(hit, stage)
    return _playbook(touchpoints[0], stage)


def _playbook(tp: Touchpoint, stage: Stage) -> Playbook:
    return Playbook(tp.id, tp.name, tp.channel, stage.id, stage.name)


def executive_contacts(journey_map: JourneyMap, contacts: Sequence[Contact]) -> set[str]:
    """Contacts one of whose personas (buying role, else job title) is the economic buyer."""
    roles = {p.id: p.role for p in journey_map.personas}
    return {contact.id for contact in contacts if any(
        roles.get(m.persona_id) == CommitteeRole.economic_buyer for m in match_personas(journey_map, contact))}


def evaluate(company: Company, engagements: Sequence[Engagement], executives: set[str], rules: ChurnRules,
             now: dt.datetime) -> list[tuple[str, str, str]]:
    """(rule, severity, behaviour) for one customer account; pure, for tests and reuse.
    `engagements` is the account's activity (skills/crm/activity.py), each with the
    account's contacts it involved."""
    out: list[tuple[str, str, str]] = []
    cs, today, on = company.success, now.date(), set(rules.enabled)
    day = (today - cs.onboarding_start).days if cs.onboarding_start else None
    early = day is not None and day <= rules.onboarding_window_days  # milestone rules are early-life rules
    if "first_value" in on and day is not None and early and cs.first_value is None and day >= rules.first_value_days:
        out.append(("first_value", "high", f"{day} days into onboarding and no first-value milestone "
                                           f"(due by day {rules.first_value_days})"))
    done = [e for e in engagements if happened(e, now)]
    if "silence" in on:
        last = max((e.timestamp for e in done if e.timestamp), default=None)
        if last is None:
            out.append(("silence", "medium", "no logged engagement at all"))
        elif (now - last).days >= rules.silence_days:
            out.append(("silence", "medium", f"no logged engagement for {(now - last).days} days "
                                             f"(last on {last.date().isoformat()})"))
    reviewed = cs.business_review is not None and (cs.onboarding_start is None or cs.business_review >= cs.onboarding_start)
    if "business_review" in on and day is not None and early and not reviewed and day >= rules.business_review_days:
        out.append(("business_review", "medium", f"{day} days into onboarding and no business review "
                                                 f"(due by day {rules.business_review_days})"))
    if "renewal_executive" in on and cs.renewal is not None:
        ahead = (cs.renewal - today).days
        since = now - dt.timedelta(days=rules.renewal_window_days)
        if 0 <= ahead <= rules.renewal_window_days and not any(
                e.timestamp and e.timestamp >= since and executives.intersection(e.contact_ids)
                for e in done):
            out.append(("renewal_executive", "high", f"renewal in {ahead} days ({cs.renewal.isoformat()}) and no "
                                                     f"executive touch in the last {rules.renewal_window_days} days"))
    if "low_nps" in on and cs.nps is not None and cs.nps <= rules.nps_threshold:
        severity = "high" if cs.nps <= rules.nps_high_threshold else "medium"
        out.append(("low_nps", severity, f"NPS of {cs.nps:g} (at or below {rules.nps_threshold:g})"))
    if "escalations" in on and (cs.open_escalations or 0) > rules.escalations_max:
        n = cs.open_escalations or 0
        out.append(("escalations", "high", f"{n} open escalation{'s' if n != 1 else ''}"))
    return out


def resolve_owner(owners: Sequence[Owner], wanted: str) -> Owner:
    names = owner_names(owners)
    key = wanted.strip().lower()
    found = [o for o in owners if o.id == wanted.strip() or names[o.id].lower() == key]
    if not found:
        raise SkillInputError(f"unknown owner {wanted!r}; owners: {', '.join(sorted(names.values()))}")
    return found[0]


def run_churn(ctx: SkillContext, min_severity: str = "low", owner: str | None = None) -> ChurnReport:
    if min_severity not in SEVERITIES:
        raise SkillInputError(f"--min_severity must be one of {', '.join(SEVERITIES)} (got {min_severity!r})")
    rules = ChurnRules.from_settings(ctx.settings)
    now, gateway, journey_map = ctx.now, ctx.gateway, ctx.journey_map
    owners = gateway.owners()
    names = owner_names(owners)
    chosen = resolve_owner(owners, owner) if owner else None
    customers = [c for c in gateway.companies() if is_customer(c)
                 and (chosen is None or c.owner_id == chosen.id)]
    links = gateway.associations("companies", "contacts", [c.id for c in customers]) if customers else {}
    activity = gateway.account_engagements({c.id: links.get(c.id, ()) for c in customers}, from_snapshot=True)
    executives: set[str] = set()
    if "renewal_executive" in rules.enabled:
        renewing = [c for c in customers if c.success.renewal
                    and 0 <= (c.success.renewal - now.date()).days <= rules.renewal_window_days]
        since = now - dt.timedelta(days=rules.renewal_window_days)
        involved = {p for c in renewing for e in activity.get(c.id, []) if happened(e, now) and e.timestamp
                    and e.timestamp >= since for p in e.contact_ids}
        if involved:
            executives = executive_contacts(journey_map, gateway.contacts_by_id(sorted(involved)))
    floor = SEVERITIES.index(min_severity)
    plays = {rule: playbook_for(journey_map, rule) for rule in RULES}
    findings = [
        ChurnFinding(c.id, c.name, rule, severity, behaviour, c.owner_id, names.get(c.owner_id or "", "unassigned"),
                     plays[rule])
        for c in customers
        for rule, severity, behaviour in evaluate(c, activity.get(c.id, []), executives, rules, now)
        if SEVERITIES.index(severity) >= floor
    ]
    findings.sort(key=lambda f: (-SEVERITIES.index(f.severity), f.account.lower(), RULES.index(f.rule)))
    return ChurnReport(now, min_severity, names[chosen.id] if chosen else None, len(customers), rules.enabled,
                       tuple(findings))


SKILL = Skill(
    name="churn",
    help="Churn-risk alerts for customers: missed milestones, silence, no executive touch before renewal, NPS.",
    run=run_churn,
    args=(
        Arg("min_severity", "lowest severity to show", kind="choice", default="low", choices=SEVERITIES),
        Arg("owner", "only accounts of this owner (id or full name)"),
    ),
    needs_crm=True,
    schedule=Schedule("churn", "0 8 * * *", aliases=("alerts",), filters=("owner", "min_severity")),
    examples=("churn", "churn --min_severity high --owner 'Ava Adams'"),
    utterances=(
        "which customers are at risk of churn?",
        "which of my customers are going quiet?",
        "who might not renew",
        "any unhappy accounts I should worry about",
        "churn risks for {owner}",
        "which customers haven't heard from us in a while",
        "hi! could you list the accounts with low NPS please",
        "customers with open escalations",
        "who is slipping in onboarding",
        "renewals at risk this quarter",
        "which accounts need CS attention",
        "chrun alerts",
        "are any of {owner}'s customers in trouble",
        "high severity risk signals only",
        "which clients haven't reached first value",
        "show me accounts showing warning signs after purchase",
        'who looks likely to leave us',
        'anyone unhappy among our customers?',
        'which customers should success be worried about?',
        'accounts where the exec sponsor stopped showing up',
        'which customers have gone silent on us',
        'any customers with renewals coming up and no exec contact',
        'customers at risk of leaving',
        "who's likely to cancel",
        'any red flags in our customer base',
        'which accounts have bad NPS scores',
        'which new customers are behind on onboarding',
        'retention risks this month',
        'list the at-risk customers for {owner}',
        'which clients skipped their business review',
        'health check across our customers',
        'whos at risk of not renewing',
    ),
)
