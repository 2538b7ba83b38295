"""A deterministic synthetic HubSpot portal from a seed, a size and a fixed `now`.

Realism matters because skills compute velocity, conversion, stalled deals, committee
coverage and churn signals from it: every stage has its own conversion rate and
days-in-stage distribution, some deals are won, lost, open or stalled, and customers
carry onboarding / first-value / review / renewal / NPS properties.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from collections.abc import Sequence
from typing import TypeVar

from sandbox.model import (
    ENGAGEMENT_TYPES,
    RENEWALS_PIPELINE,
    SALES_PIPELINE,
    CrmObject,
    Owner,
    PipelineDef,
    Portal,
    PortalSize,
)

T = TypeVar("T")
DAY_MS = 86_400_000
FIRST = ["Ava", "Ben", "Chloe", "Dan", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira",
         "Liam", "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera",
         "Wes", "Xin", "Yara", "Zoe", "Marco", "Lena", "Omar", "Sofia"]
LAST = ["Adams", "Berg", "Costa", "Diaz", "Evans", "Fischer", "Garcia", "Hansen", "Ito", "Jensen",
        "Kim", "Larsen", "Meyer", "Novak", "Okafor", "Patel", "Quist", "Rossi", "Silva", "Tanaka",
        "Ueda", "Vogel", "Weber", "Young", "Zhang", "Moreau", "Nilsen", "Brandt"]
WORD_A = ["Blue", "North", "Bright", "Iron", "Swift", "Clear", "Silver", "Prime", "Green", "Open",
          "True", "Nova", "Apex", "Summit", "Harbor", "Cedar", "Atlas", "Vector", "Lumen", "Orbit"]
WORD_B = ["Logistics", "Analytics", "Health", "Foods", "Robotics", "Finance", "Energy", "Media",
          "Labs", "Systems", "Retail", "Freight", "Bio", "Cloud", "Works", "Security"]
INDUSTRIES = ["COMPUTER_SOFTWARE", "LOGISTICS_AND_SUPPLY_CHAIN", "HOSPITAL_HEALTH_CARE",
              "FINANCIAL_SERVICES", "RETAIL", "MARKETING_AND_ADVERTISING"]
PRODUCTS = ["Platform", "Growth plan", "Enterprise seats", "Analytics add-on", "Pilot"]
ROLE_TITLES: dict[str, list[str]] = {
    "DECISION_MAKER": ["Chief Revenue Officer", "VP of Sales", "CEO"],
    "BUDGET_HOLDER": ["CFO", "VP Finance", "Head of Procurement"],
    "CHAMPION": ["Director of Revenue Operations", "Sales Operations Manager"],
    "END_USER": ["Account Executive", "Sales Development Representative", "Customer Success Manager"],
    "INFLUENCER": ["Head of Marketing", "IT Director", "Solutions Architect"],
    "EXECUTIVE_SPONSOR": ["COO", "Chief Operating Officer"],
    "LEGAL_AND_COMPLIANCE": ["General Counsel", "Compliance Manager"],
    "BLOCKER": ["Security Officer", "Head of IT"],
}
CORE_ROLES = ["DECISION_MAKER", "BUDGET_HOLDER", "CHAMPION", "END_USER", "INFLUENCER",
              "EXECUTIVE_SPONSOR", "LEGAL_AND_COMPLIANCE"]
NO_ROLE_TITLES = ["Marketing Manager", "Data Analyst", "Office Manager", "Product Manager", "Engineer"]
ENGAGEMENT_WEIGHTS = [20, 35, 15, 15, 15]  # calls, emails, meetings, notes, tasks
ID_BASE = {"owners": 70_000_000, "companies": 1_000_000_000, "contacts": 2_000_000_000,
           "deals": 3_000_000_000, "engagements": 4_000_000_000}


def generate_portal(
    seed: int = 7,
    size: PortalSize | None = None,
    now: dt.datetime | None = None,
    *,
    renewals: bool = True,
    stage_props_coverage: float = 0.9,
    owners: int = 12,
) -> Portal:
    """Build the portal. Same seed, size and now give the same portal, byte for byte.

    `stage_props_coverage` is the share of deals carrying hs_v2_date_entered/exited_*
    (the rest exercise the `dealstage` history fallback, as on Starter portals)."""
    size = size or PortalSize()
    now = now or dt.datetime.now(dt.UTC)
    now_ms = int(now.timestamp() * 1000)
    rng = random.Random(seed)
    pipelines = [SALES_PIPELINE] + ([RENEWALS_PIPELINE] if renewals else [])
    portal = Portal(seed=seed, now_ms=now_ms, pipelines=pipelines, owners=_owners(rng, owners),
                    objects={}, associations=defaultdict(dict))
    company_ids = [ID_BASE["companies"] + i for i in range(1, size.companies + 1)]
    company_weights = [rng.paretovariate(1.6) for _ in company_ids]
    contacts_by_company = _contacts(portal, rng, size.contacts, company_ids, company_weights)
    won_by_company = _deals(portal, rng, size.deals, company_ids, company_weights,
                            contacts_by_company, stage_props_coverage)
    _companies(portal, rng, company_ids, contacts_by_company, won_by_company)
    _engagements(portal, rng, size.engagements, company_ids, company_weights)
    _engagement_contacts(portal, random.Random(seed * 1_000_003 + 17))  # own stream: older data unchanged
    portal.associations = dict(portal.associations)
    return portal


def _owners(rng: random.Random, count: int) -> list[Owner]:
    out = []
    for i in range(count):
        first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
        out.append(Owner(ID_BASE["owners"] + i + 1, first, last,
                         f"{first.lower()}.{last.lower()}@example.com", 9_000_000 + i))
    return out


def _link(portal: Portal, a_type: str, a_id: int, b_type: str, b_id: int) -> None:
    portal.associations[(a_type, b_type)].setdefault(a_id, []).append(b_id)
    portal.associations[(b_type, a_type)].setdefault(b_id, []).append(a_id)


def _contacts(portal: Portal, rng: random.Random, count: int, company_ids: list[int],
              weights: list[float]) -> dict[int, list[int]]:
    """Contacts grouped by company; each company's committee covers a random subset of roles."""
    owners = portal.owners
    store: dict[int, CrmObject] = {}
    by_company: dict[int, list[int]] = defaultdict(list)
    assigned = rng.choices(company_ids, weights=[w + 2.0 for w in weights], k=count)
    covered = {cid: rng.sample(CORE_ROLES, _ri(rng, 1, 5)) for cid in company_ids}
    for i, company_id in enumerate(assigned):
        cid = ID_BASE["contacts"] + i + 1
        position = len(by_company[company_id])
        roles_left = covered[company_id]
        if position < len(roles_left):
            role = roles_left[position]
        elif rng.random() < 0.35:
            role = _pick(rng, ["END_USER", "INFLUENCER", "BLOCKER"])
        else:
            role = ""
        title = _pick(rng, ROLE_TITLES[role]) if role else _pick(rng, NO_ROLE_TITLES)
        first, last = _pick(rng, FIRST), _pick(rng, LAST)
        created = portal.now_ms - _ri(rng, 20, 700) * DAY_MS - _ri(rng, 0, DAY_MS)
        props: dict[str, str | int] = {
            "firstname": first, "lastname": last, "jobtitle": title,
            "email": f"{first.lower()}.{last.lower()}{i}@c{company_id % 100000}.example.com",
            "phone": f"+1 555 {_ri(rng, 100, 999)} {_ri(rng, 1000, 9999)}",
            "lifecyclestage": "lead", "hubspot_owner_id": str(_pick(rng, owners).id),
            "associatedcompanyid": str(company_id), "createdate": created,
            "hs_lastmodifieddate": created + _ri(rng, 1, 15) * DAY_MS, "hs_object_id": str(cid),
        }
        props["lastmodifieddate"] = props["hs_lastmodifieddate"]  # contacts' own name for it
        if role:
            props["hs_buying_role"] = role
        store[cid] = CrmObject(cid, props, created, int(props["hs_lastmodifieddate"]))
        by_company[company_id].append(cid)
        _link(portal, "contacts", cid, "companies", company_id)
    portal.objects["contacts"] = store
    return by_company


def _walk(rng: random.Random, pipe: PipelineDef, created: int, now_ms: int,
          stalled: bool) -> list[tuple[str, int, int | None]]:
    """One deal's stage path: per-stage lognormal days, per-stage advance probability."""
    path: list[tuple[str, int, int | None]] = []
    t = created
    stages = pipe.open_stages
    for index, stage in enumerate(stages):
        if 0 < index < len(stages) - 1 and rng.random() < 0.05:
            continue  # reps sometimes skip a stage
        days = rng.lognormvariate(math.log(stage.median_days), stage.sigma)
        if stalled:
            days *= 6.0
        leave = t + int(days * DAY_MS)
        if leave >= now_ms:
            path.append((stage.id, t, None))
            return path
        path.append((stage.id, t, leave))
        t = leave
        if rng.random() >= stage.advance:
            path.append((pipe.lost_stage.id, t, None))
            return path
    path.append((pipe.won_stage.id, t, None))
    return path


def _deals(portal: Portal, rng: random.Random, count: int, company_ids: list[int],
           weights: list[float], contacts_by_company: dict[int, list[int]],
           coverage: float) -> dict[int, list[int]]:
    now_ms = portal.now_ms
    pipes = portal.pipelines
    store: dict[int, CrmObject] = {}
    won_by_company: dict[int, list[int]] = defaultdict(list)
    assigned = rng.choices(company_ids, weights=weights, k=count)
    for i, company_id in enumerate(assigned):
        did = ID_BASE["deals"] + i + 1
        pipe = pipes[1] if len(pipes) > 1 and rng.random() < 0.12 else pipes[0]
        created = now_ms - int(min(rng.expovariate(1 / 150), 540) * DAY_MS) - _ri(rng, 0, DAY_MS)
        path = _walk(rng, pipe, created, now_ms, stalled=rng.random() < 0.08)
        current, entered, _ = path[-1]
        stage = next(s for s in pipe.stages if s.id == current)
        owner = _pick(rng, portal.owners).id
        props: dict[str, str | int] = {
            "dealname": f"{_pick(rng, PRODUCTS)} #{i + 1}", "pipeline": pipe.id, "dealstage": current,
            "amount": str(int(rng.lognormvariate(math.log(24_000), 0.8)) // 100 * 100),
            "createdate": created, "hubspot_owner_id": str(owner),
            "hs_is_closed": "true" if stage.is_closed else "false",
            "hs_is_closed_won": "true" if stage.is_won else "false",
            "hs_deal_stage_probability": str(stage.probability), "hs_object_id": str(did),
            "closedate": entered if stage.is_closed else now_ms + _ri(rng, 5, 90) * DAY_MS,
        }
        if rng.random() < coverage:
            for stage_id, t_in, t_out in path:
                props[f"hs_v2_date_entered_{stage_id}"] = t_in
                if t_out is not None:
                    props[f"hs_v2_date_exited_{stage_id}"] = t_out
            props["hs_v2_date_entered_current_stage"] = entered
            props["hs_v2_time_in_current_stage"] = entered
        modified = entered + _ri(rng, 0, 3 * DAY_MS)
        if modified > now_ms - 3_600_000:
            modified = now_ms - 3_600_000 - _ri(rng, 0, DAY_MS)
        props["hs_lastmodifieddate"] = max(modified, created)
        history = {"dealstage": [(s, t) for s, t, _ in path]}
        store[did] = CrmObject(did, props, created, int(props["hs_lastmodifieddate"]), history)
        portal.deal_paths[did] = path
        median = next(s.median_days for s in pipe.stages if s.id == current) if not stage.is_closed else 0
        if not stage.is_closed and now_ms - entered > 3 * median * DAY_MS:
            portal.stalled_deal_ids.add(did)
        if stage.is_won:
            won_by_company[company_id].append(entered)
        _link(portal, "deals", did, "companies", company_id)
        people = contacts_by_company.get(company_id, [])
        for contact_id in rng.sample(people, min(len(people), _ri(rng, 1, 4))):
            _link(portal, "deals", did, "contacts", contact_id)
    portal.objects["deals"] = store
    return won_by_company


def _date(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d")


def _companies(portal: Portal, rng: random.Random, company_ids: list[int],
               contacts_by_company: dict[int, list[int]], won_by_company: dict[int, list[int]]) -> None:
    """Companies; those with a won deal are customers with customer-success properties."""
    now_ms = portal.now_ms
    store: dict[int, CrmObject] = {}
    contacts = portal.objects["contacts"]
    open_deal_companies = {
        portal.associated("deals", "companies", d.id)[0]
        for d in portal.objects["deals"].values() if d.properties["hs_is_closed"] == "false"
    }
    for n, company_id in enumerate(company_ids):
        name = f"{WORD_A[n % len(WORD_A)]} {WORD_B[(n // len(WORD_A)) % len(WORD_B)]} {n + 1}"
        created = now_ms - _ri(rng, 560, 900) * DAY_MS
        props: dict[str, str | int] = {
            "name": name, "domain": name.lower().replace(" ", "") + ".example.com",
            "industry": _pick(rng, INDUSTRIES), "numberofemployees": str(_pick(rng, [25, 80, 250, 900, 4000])),
            "hubspot_owner_id": str(_pick(rng, portal.owners).id), "createdate": created,
            "hs_object_id": str(company_id),
        }
        wins = won_by_company.get(company_id)
        if wins:
            props["lifecyclestage"] = "evangelist" if rng.random() < 0.08 else "customer"
            start = min(wins)
            props["jb_onboarding_start_date"] = _date(start)
            props["jb_renewal_date"] = _date(start + 365 * DAY_MS)
            first_value = start + int(rng.lognormvariate(math.log(24), 0.5) * DAY_MS)
            if first_value <= now_ms and rng.random() < 0.75:
                props["jb_first_value_date"] = _date(first_value)
            review = start + _ri(rng, 60, 95) * DAY_MS
            if review <= now_ms and rng.random() < 0.6:
                props["jb_business_review_date"] = _date(review)
            if rng.random() < 0.7:
                props["jb_nps_score"] = str(rng.choices(range(11), weights=[1, 1, 1, 2, 2, 3, 4, 6, 9, 8, 6])[0])
            props["jb_health_score"] = str(_ri(rng, 15, 98))
            props["jb_open_escalations"] = str(rng.choices([0, 1, 2, 3], weights=[80, 12, 6, 2])[0])
        elif company_id in open_deal_companies:
            props["lifecyclestage"] = "opportunity"
        else:
            props["lifecyclestage"] = _pick(rng, ["lead", "marketingqualifiedlead", "salesqualifiedlead"])
        props["hs_lastmodifieddate"] = now_ms - _ri(rng, 2, 60) * DAY_MS
        store[company_id] = CrmObject(company_id, props, created, int(props["hs_lastmodifieddate"]))
        stage = props["lifecyclestage"]
        for cid in contacts_by_company.get(company_id, []):
            contacts[cid].properties["lifecyclestage"] = stage if rng.random() < 0.85 else "lead"
    portal.objects["companies"] = store


def _engagements(portal: Portal, rng: random.Random, count: int, company_ids: list[int],
                 weights: list[float]) -> None:
    """Activity skewed to recent days; ~15% of companies have gone silent for 45+ days."""
    now_ms = portal.now_ms
    silent = {cid for cid in company_ids if rng.random() < 0.15}
    stores: dict[str, dict[int, CrmObject]] = {t: {} for t in ENGAGEMENT_TYPES}
    companies = rng.choices(company_ids, weights=[w + 1.0 for w in weights], k=count)
    kinds = rng.choices(ENGAGEMENT_TYPES, weights=ENGAGEMENT_WEIGHTS, k=count)
    owners = portal.owners
    for i, (company_id, kind) in enumerate(zip(companies, kinds, strict=False)):
        eid = ID_BASE["engagements"] + i + 1
        age = min(rng.expovariate(1 / 60), 365) + (45 if company_id in silent else 0)
        stamp = now_ms - int(age * DAY_MS) - _ri(rng, 0, DAY_MS // 2)
        if kind == "tasks" and rng.random() < 0.3:
            stamp = now_ms + _ri(rng, 1, 14) * DAY_MS  # an upcoming task's due date
        # Logged when it happened; an upcoming task was created some days before now (spread by
        # id so the random stream, and with it the rest of the portal, stays as it was).
        logged = min(stamp, now_ms - 3_600_000) if stamp <= now_ms else now_ms - 3_600_000 - (eid % 10) * DAY_MS
        props: dict[str, str | int] = {
            "hs_timestamp": stamp, "hubspot_owner_id": str(_pick(rng, owners).id),
            "hs_createdate": logged, "hs_lastmodifieddate": logged, "hs_object_id": str(eid),
        }
        props[_TITLE[kind]] = f"{kind[:-1].capitalize()} with {portal.objects['companies'][company_id].properties['name']}"
        if kind == "tasks":
            props["hs_task_status"] = "COMPLETED" if stamp < now_ms else "NOT_STARTED"
        if kind == "calls":
            props["hs_call_direction"] = _pick(rng, ["OUTBOUND", "INBOUND"])
        stores[kind][eid] = CrmObject(eid, props, int(props["hs_createdate"]), int(props["hs_lastmodifieddate"]))
        _link(portal, "companies", company_id, kind, eid)
    portal.objects.update(stores)


def _engagement_contacts(portal: Portal, rng: random.Random) -> None:
    """Who took part: calls, emails and meetings involve 1-2 of the company's contacts, notes
    and tasks usually none (as in real portals). Churn reads this for executive touches."""
    people = portal.associations.get(("companies", "contacts"), {})
    for kind in ENGAGEMENT_TYPES:
        share = 0.2 if kind in ("notes", "tasks") else 0.95
        for company_id, engagement_ids in portal.associations.get(("companies", kind), {}).items():
            staff = people.get(company_id, [])
            if not staff:
                continue
            for eid in engagement_ids:
                if rng.random() < share:
                    for contact_id in rng.sample(staff, min(len(staff), 1 + int(rng.random() < 0.35))):
                        _link(portal, kind, eid, "contacts", contact_id)


_TITLE = {"calls": "hs_call_title", "emails": "hs_email_subject", "meetings": "hs_meeting_title",
          "notes": "hs_note_body", "tasks": "hs_task_subject"}


def _ri(rng: random.Random, low: int, high: int) -> int:
    """randint without randrange's overhead (generation of 50k deals must take seconds)."""
    return low + int(rng.random() * (high - low + 1))


def _pick(rng: random.Random, items: Sequence[T]) -> T:
    return items[int(rng.random() * len(items))]
