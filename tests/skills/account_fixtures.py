"""Fixtures for the `account` and `deal` skill tests: a generated portal with one planted
account (no technical evaluator, one open Consideration deal, activity logged on a
contact only), a real SandboxServer, and a SkillContext over the indexed sample map.

Not a conftest.py (another helper may own tests/skills/conftest.py): test modules import
the fixtures they use from here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from config import Settings
from knowledge.service import KnowledgeService
from sandbox.generator import generate_portal
from sandbox.model import ENGAGEMENT_TYPES, CrmObject, Portal
from sandbox.server import SandboxServer
from skills.context import SkillContext
from skills.crm import CrmGateway
from storage.engine import make_engine
from storage.migrate import upgrade_database

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
NOW_MS = int(NOW.timestamp() * 1000)
DAY_MS = 86_400_000
TOKEN = "skills-test-token"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# A phone number as people write one: +country code and single-separated groups, or US style.
# (Not "+0.4)     18": a change and a count side by side in a table.)
PHONE = re.compile(r"\+[1-9](?:[ .()-]{0,2}\d){7,14}(?!\d)|\(?\b\d{3}\)?[ .-]\d{3}[ .-]\d{4}\b")
PLANTED_NAME = "Quasar Dynamics"
PLANTED_DOMAIN = "quasar-dynamics.example.com"
# (buying role, job title) -> the persona the sample map gives it, and by which rule
PLANTED_PEOPLE: list[tuple[str, str, str | None, str | None]] = [
    ("DECISION_MAKER", "VP of Sales", "economic-buyer", "buying_role"),
    ("CHAMPION", "Director of Revenue Operations", "champion", "buying_role"),
    ("", "Regional Sales Manager", "end-user", "job_title"),
    ("BUDGET_HOLDER", "CFO", "finance", "buying_role"),
    ("", "Office Manager", None, None),
]

DEAL_PEOPLE = (0, 2, 4)  # on the open deal: economic buyer, end user (by title), no persona


@dataclass(frozen=True)
class Planted:
    company_id: int
    contact_ids: list[int]
    open_deal_id: int
    closed_deal_ids: list[int]
    contact_only_meeting: int
    committee: Committee | None = None


# A second account where every persona has a contact: the CFO is both budget holder and
# decision maker, and the technical evaluator was last involved 150 days ago.
COMMITTEE_NAME = "Helios Freight"
COMMITTEE_DEAL = "Helios fleet rollout"
# (buying role, job title, days since the last activity involving them, on the open deal)
COMMITTEE_PEOPLE: list[tuple[str, str, int, bool]] = [
    ("BUDGET_HOLDER;DECISION_MAKER", "CFO", 5, True),
    ("CHAMPION", "Director of Revenue Operations", 3, False),
    ("", "Regional Sales Manager", 10, True),
    ("TECHNICAL_EVALUATOR", "IT Director", 150, False),
]


@dataclass(frozen=True)
class Committee:
    company_id: int
    contact_ids: list[int]  # in COMMITTEE_PEOPLE order
    deal_id: int


def plant_account(portal: Portal) -> Planted:
    """Rewrite one generated company into the planted account (before serving)."""
    companies = portal.objects["companies"]
    company_id = next(cid for cid in companies
                      if len(portal.associated("companies", "contacts", cid)) >= len(PLANTED_PEOPLE)
                      and len(portal.associated("companies", "deals", cid)) >= 2
                      and len(portal.associated("companies", "emails", cid)) >= 5)
    companies[company_id].properties.update(name=PLANTED_NAME, domain=PLANTED_DOMAIN, lifecyclestage="opportunity")
    contact_ids = list(portal.associated("companies", "contacts", company_id))
    for n, contact_id in enumerate(contact_ids):
        role, title, _, _ = PLANTED_PEOPLE[min(n, len(PLANTED_PEOPLE) - 1)]
        props = portal.objects["contacts"][contact_id].properties
        props["jobtitle"] = title
        props.pop("hs_buying_role", None)
        if role:
            props["hs_buying_role"] = role
    deal_ids = list(portal.associated("companies", "deals", company_id))
    open_id, closed = deal_ids[0], deal_ids[1:]
    deal = portal.objects["deals"][open_id]
    for key in [k for k in deal.properties if k.startswith("hs_v2_")]:
        del deal.properties[key]
    entered_first, entered_now = NOW_MS - 40 * DAY_MS, NOW_MS - 25 * DAY_MS
    deal.properties.update(
        dealname="Quasar Platform rollout", pipeline="default", dealstage="qualifiedtobuy", hs_is_closed="false",
        hs_is_closed_won="false", hs_v2_date_entered_appointmentscheduled=entered_first,
        hs_v2_date_exited_appointmentscheduled=entered_now, hs_v2_date_entered_qualifiedtobuy=entered_now)
    deal.history["dealstage"] = [("appointmentscheduled", entered_first), ("qualifiedtobuy", entered_now)]
    for contact_id in portal.associated("deals", "contacts", open_id):
        portal.associations[("contacts", "deals")][contact_id].remove(open_id)
    portal.associations[("deals", "contacts")][open_id] = []
    for n in DEAL_PEOPLE:
        _link(portal, "deals", open_id, "contacts", contact_ids[n])
    for deal_id in closed:
        portal.objects["deals"][deal_id].properties.update(dealstage="closedlost", hs_is_closed="true",
                                                           hs_is_closed_won="false", pipeline="default")
    # Activity logged on contacts: a meeting linked only to the champion, a company call also on a contact.
    meeting_id = 4_900_000_001
    stamp = NOW_MS - 2 * DAY_MS
    portal.objects["meetings"][meeting_id] = CrmObject(meeting_id, {
        "hs_timestamp": stamp, "hs_meeting_title": "Champion sync", "hs_createdate": stamp,
        "hs_lastmodifieddate": stamp, "hs_object_id": str(meeting_id)}, stamp, stamp)
    _link(portal, "contacts", contact_ids[1], "meetings", meeting_id)
    shared_call = portal.associated("companies", "calls", company_id)[0]
    _link(portal, "contacts", contact_ids[0], "calls", shared_call)
    for n, contact_id in enumerate(contact_ids[:4]):  # each persona recently involved (days 2-5)
        _touch(portal, "emails", contact_id, NOW_MS - (n + 2) * DAY_MS)
    return Planted(company_id, contact_ids, open_id, closed, meeting_id, plant_committee(portal, company_id))


def _touch(portal: Portal, kind: str, contact_id: int, stamp: int) -> int:
    """An activity involving one contact (and no company), like a rep logging it on the person."""
    title = {"emails": "hs_email_subject", "meetings": "hs_meeting_title", "calls": "hs_call_title"}[kind]
    eid = max(max(portal.objects[k], default=0) for k in ENGAGEMENT_TYPES) + 1
    portal.objects[kind][eid] = CrmObject(eid, {"hs_timestamp": stamp, title: "Planted touch", "hs_createdate": stamp,
                                                "hs_lastmodifieddate": stamp, "hs_object_id": str(eid)}, stamp, stamp)
    _link(portal, "contacts", contact_id, kind, eid)
    return eid


def plant_committee(portal: Portal, planted_company: int) -> Committee:
    """Rewrite another generated company into the Helios account: only the planted touches
    involve its contacts (the generated ones keep the company link alone)."""
    company_id = next(cid for cid in portal.objects["companies"] if cid != planted_company
                      and len(portal.associated("companies", "contacts", cid)) == len(COMMITTEE_PEOPLE)
                      and portal.associated("companies", "deals", cid))
    portal.objects["companies"][company_id].properties.update(name=COMMITTEE_NAME, domain="helios-freight.example.com",
                                                              lifecyclestage="opportunity")
    contact_ids = list(portal.associated("companies", "contacts", company_id))
    for contact_id, (role, title, days, _) in zip(contact_ids, COMMITTEE_PEOPLE, strict=True):
        props = portal.objects["contacts"][contact_id].properties
        props["jobtitle"] = title
        props.pop("hs_buying_role", None)
        if role:
            props["hs_buying_role"] = role
        for kind in ENGAGEMENT_TYPES:
            for eid in list(portal.associations.get(("contacts", kind), {}).get(contact_id, [])):
                portal.associations[("contacts", kind)][contact_id].remove(eid)
                portal.associations[(kind, "contacts")][eid].remove(contact_id)
        _touch(portal, "meetings", contact_id, NOW_MS - days * DAY_MS)
    deal_id = portal.associated("companies", "deals", company_id)[0]
    deal = portal.objects["deals"][deal_id]
    for key in [k for k in deal.properties if k.startswith("hs_v2_")]:
        del deal.properties[key]
    entered = NOW_MS - 5 * DAY_MS
    deal.properties.update(dealname=COMMITTEE_DEAL, pipeline="default", dealstage="qualifiedtobuy",
                           hs_is_closed="false", hs_is_closed_won="false",
                           hs_v2_date_entered_qualifiedtobuy=entered)
    deal.history["dealstage"] = [("qualifiedtobuy", entered)]
    for contact_id in portal.associated("deals", "contacts", deal_id):
        portal.associations[("contacts", "deals")][contact_id].remove(deal_id)
    portal.associations[("deals", "contacts")][deal_id] = []
    for contact_id, (_, _, _, on_deal) in zip(contact_ids, COMMITTEE_PEOPLE, strict=True):
        if on_deal:
            _link(portal, "deals", deal_id, "contacts", contact_id)
    return Committee(company_id, contact_ids, deal_id)


def _link(portal: Portal, a_type: str, a_id: int, b_type: str, b_id: int) -> None:
    portal.associations.setdefault((a_type, b_type), {}).setdefault(a_id, []).append(b_id)
    portal.associations.setdefault((b_type, a_type), {}).setdefault(b_id, []).append(a_id)


def expected_engagement(portal: Portal, company_id: int, now_ms: int = NOW_MS) -> dict[str, dict[str, int]]:
    """Per type: engagements linked to the company or its contacts, counted straight from
    the portal's records (last_30 / last_90 exclude future-dated tasks)."""
    contacts = portal.associated("companies", "contacts", company_id)
    out: dict[str, dict[str, int]] = {}
    for kind in ENGAGEMENT_TYPES:
        ids = set(portal.associated("companies", kind, company_id))
        for contact_id in contacts:
            ids.update(portal.associated("contacts", kind, contact_id))
        stamps = [int(portal.objects[kind][i].properties["hs_timestamp"]) for i in ids]
        out[kind] = {"total": len(ids),
                     "last_30": sum(1 for s in stamps if now_ms - 30 * DAY_MS < s <= now_ms),
                     "last_90": sum(1 for s in stamps if now_ms - 90 * DAY_MS < s <= now_ms)}
    return out


@pytest.fixture(scope="module")
def planted_portal() -> tuple[Portal, Planted]:
    portal = generate_portal(11, now=NOW)
    return portal, plant_account(portal)


@pytest.fixture(scope="module")
def skill_server(planted_portal: tuple[Portal, Planted]) -> Iterator[SandboxServer]:
    with SandboxServer(planted_portal[0], token=TOKEN, rate_limit=None, search_rate_limit=None) as server:
        yield server


def skill_settings(sample_service: Any, base_url: str) -> Settings:
    values: dict[str, Any] = {
        **sample_service.settings.model_dump(), "hubspot_access_token": TOKEN, "hubspot_base_url": base_url,
        "hubspot_backoff_base_s": 0.01, "hubspot_backoff_max_s": 0.05, "hubspot_rate_limit": 1000,
        "hubspot_rate_window_s": 1.0, "hubspot_search_per_second": 5, "hubspot_timeout_s": 5.0,
    }
    return Settings.from_mapping(values)


@contextmanager
def crm_skill_context(sample_service: Any, server: SandboxServer, folder: Path) -> Iterator[SkillContext]:
    """The knowledge side on the session's indexed sample map; the gateway's snapshot in a
    private SQLite file in `folder`, so no other test's portal can leak into it."""
    settings = skill_settings(sample_service, server.base_url)
    ctx = SkillContext(settings, KnowledgeService(settings, engine=sample_service.engine), clock=lambda: NOW)
    engine = make_engine(f"sqlite:///{folder / 'crm.db'}")
    upgrade_database(engine)
    ctx.gateway = CrmGateway(settings, engine=engine, now=ctx.clock)  # type: ignore[misc]
    try:
        yield ctx
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def skill_ctx(sample_service: Any, skill_server: SandboxServer,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[SkillContext]:
    with crm_skill_context(sample_service, skill_server, tmp_path_factory.mktemp("skills-crm")) as ctx:
        yield ctx
