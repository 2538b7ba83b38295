"""The gateway's per-account reads (contacts_by_id, deals_by_id, account_engagements) equal
the portal's own records and read nothing beyond the ids asked for."""

from __future__ import annotations

from collections.abc import Callable

from sandbox.generator import generate_portal
from sandbox.model import ENGAGEMENT_TYPES, CrmObject, Portal
from sandbox.server import SandboxServer
from skills.crm import CrmGateway
from tests.skills.crm.conftest import CRM_NOW, CRM_TOKEN
from tests.skills.crm.crm_expect import actual_deal, expected_deals


def test_contacts_and_deals_by_id(make_gateway: Callable[..., CrmGateway], crm_portal: Portal,
                                  crm_server: SandboxServer) -> None:
    company = next(iter(crm_portal.objects["companies"]))
    contact_ids = [str(i) for i in crm_portal.associated("companies", "contacts", company)]
    deal_ids = [str(i) for i in crm_portal.associated("companies", "deals", company)]
    gateway = make_gateway()
    contacts = gateway.contacts_by_id(contact_ids + contact_ids[:1])  # duplicates read once
    assert sorted(c.id for c in contacts) == sorted(contact_ids)
    for contact in contacts:
        props = crm_portal.objects["contacts"][int(contact.id)].properties
        assert (contact.first_name, contact.job_title, contact.company_id) == (
            props["firstname"], props["jobtitle"], str(company))
        assert contact.buying_roles == tuple(x for x in str(props.get("hs_buying_role", "")).split(";") if x)
    want = expected_deals(crm_portal)
    deals = gateway.deals_by_id(deal_ids)
    assert sorted(d.id for d in deals) == sorted(deal_ids)
    assert all(actual_deal(d) == want[d.id] for d in deals)
    assert crm_server.counts["list:contacts"] == crm_server.counts["list:deals"] == 0


def test_account_engagements_union_company_and_contact_links(settings_for: Callable[..., object]) -> None:
    portal = generate_portal(5, now=CRM_NOW)
    company = next(iter(portal.objects["companies"]))
    contacts = portal.associated("companies", "contacts", company)
    stamp = int(CRM_NOW.timestamp() * 1000) - 3_600_000
    only_on_contact = 4_800_000_001
    portal.objects["notes"][only_on_contact] = CrmObject(only_on_contact, {
        "hs_timestamp": stamp, "hs_note_body": "logged on the contact", "hs_lastmodifieddate": stamp}, stamp, stamp)
    portal.associations.setdefault(("contacts", "notes"), {})[contacts[0]] = [only_on_contact]
    shared = portal.associated("companies", "emails", company)[0]
    portal.associations.setdefault(("contacts", "emails"), {})[contacts[0]] = [shared]
    with SandboxServer(portal, token=CRM_TOKEN, rate_limit=None) as server:
        gateway = CrmGateway(settings_for(server.base_url))  # type: ignore[arg-type]
        found = gateway.account_engagements({str(company): [str(c) for c in contacts]})[str(company)]
    want = {str(i) for kind in ENGAGEMENT_TYPES for i in portal.associated("companies", kind, company)}
    assert [e.id for e in found].count(str(shared)) == 1
    assert {e.id for e in found} == want | {str(only_on_contact)}
    assert all(e.company_id == str(company) for e in found)
    note = next(e for e in found if e.id == str(only_on_contact))
    assert note.contact_ids == (str(contacts[0]),)  # who was involved is kept
    stamps = [e.timestamp for e in found if e.timestamp]
    assert stamps == sorted(stamps, reverse=True)
