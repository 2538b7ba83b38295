"""Every gateway read, through the real client against the sandbox, equals the portal's
own records (figures computed independently from the generator's data)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

from sqlalchemy.engine import Engine

from sandbox.model import ENGAGEMENT_TYPES, Portal
from sandbox.server import SandboxServer
from skills.crm import CrmGateway
from skills.crm.records import Contact
from tests.skills.crm.crm_expect import actual_deal, check_deals, expected_deals

CRM_NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


def test_pipelines(make_gateway: Callable[..., CrmGateway], crm_portal: Portal) -> None:
    pipes = make_gateway().pipelines()
    assert [p.id for p in pipes] == ["default", "renewals"]
    sales = pipes[0]
    assert [s.id for s in sales.stages] == [s.id for s in crm_portal.pipelines[0].stages]
    won = sales.stage("closedwon")
    lost = sales.stage("closedlost")
    assert won and won.is_closed and won.is_won and won.probability == 1.0
    assert lost and lost.is_closed and not lost.is_won
    assert not sales.stage("contractsent").is_closed  # type: ignore[union-attr]


def test_deals_across_pages_with_stage_times_and_fallback(make_gateway: Callable[..., CrmGateway],
                                                          crm_portal: Portal, crm_server: SandboxServer) -> None:
    gateway = make_gateway()
    deals = gateway.deals()
    check_deals(deals, crm_portal)
    sources = {d.stage_source for d in deals}
    assert sources == {"v2", "history"}
    assert crm_server.counts["list:deals"] == 6
    bare = sum(1 for d in deals if d.stage_source == "history")
    assert crm_server.counts["batch_read:deals"] == -(-bare // 50)
    stalled = {d.id for d in deals if not d.is_closed and d.days_in_current_stage(CRM_NOW) > 3 * 11} & {
        str(i) for i in crm_portal.stalled_deal_ids}
    assert stalled


def test_companies_with_customer_success(make_gateway: Callable[..., CrmGateway], crm_portal: Portal) -> None:
    companies = {c.id: c for c in make_gateway().companies()}
    assert len(companies) == 200
    for record in crm_portal.records("companies"):
        company = companies[str(record.id)]
        p = record.properties
        assert company.name == p["name"] and company.lifecycle_stage == p["lifecyclestage"]
        onboarding = p.get("jb_onboarding_start_date")
        assert (company.success.onboarding_start.isoformat() if company.success.onboarding_start else None) == onboarding
        assert company.success.nps == (float(str(p["jb_nps_score"])) if "jb_nps_score" in p else None)
        assert company.success.open_escalations == (int(str(p["jb_open_escalations"]))
                                                    if "jb_open_escalations" in p else None)


def test_contacts_carry_roles_but_no_personal_data(make_gateway: Callable[..., CrmGateway],
                                                    crm_portal: Portal) -> None:
    gateway = make_gateway()
    contacts = gateway.contacts()
    assert len(contacts) == 1500
    assert not {"email", "phone"} & set(Contact.__slots__)  # type: ignore[attr-defined]
    by_id = {c.id: c for c in contacts}
    for record in crm_portal.records("contacts"):
        contact = by_id[str(record.id)]
        role = record.properties.get("hs_buying_role")
        assert contact.buying_roles == ((str(role),) if role else ())
        assert contact.job_title == record.properties["jobtitle"]
        assert contact.company_id == record.properties["associatedcompanyid"]
    first = crm_portal.records("contacts")[0]
    assert gateway.contact_emails([str(first.id)]) == {str(first.id): first.properties["email"]}


def test_owners(make_gateway: Callable[..., CrmGateway], crm_portal: Portal) -> None:
    owners = make_gateway().owners()
    assert [(o.id, o.email) for o in owners] == [(str(o.id), o.email) for o in crm_portal.owners]


def test_associations_in_batches(make_gateway: Callable[..., CrmGateway], crm_portal: Portal,
                                 crm_server: SandboxServer) -> None:
    gateway = make_gateway()
    company_ids = [str(c.id) for c in crm_portal.records("companies")]
    links = gateway.company_associations(company_ids)
    for cid in company_ids:
        assert list(links[cid].contact_ids) == [str(i) for i in crm_portal.associated("companies", "contacts", int(cid))]
        assert list(links[cid].deal_ids) == [str(i) for i in crm_portal.associated("companies", "deals", int(cid))]
    deal_ids = [str(d.id) for d in crm_portal.records("deals")]
    people = gateway.deal_contacts(deal_ids)
    assert all(list(people[d]) == [str(i) for i in crm_portal.associated("deals", "contacts", int(d))]
               for d in deal_ids)
    assert crm_server.counts["assoc_batch:companies->contacts"] == 1
    assert crm_server.counts["assoc_batch:deals->contacts"] == 1


def test_engagements_per_account(make_gateway: Callable[..., CrmGateway], crm_portal: Portal,
                                 crm_server: SandboxServer) -> None:
    companies = [c.id for c in crm_portal.records("companies")[:20]]
    accounts = {str(c): [str(p) for p in crm_portal.associated("companies", "contacts", c)] for c in companies}
    found = make_gateway().account_engagements(accounts)
    for company in companies:
        people = crm_portal.associated("companies", "contacts", company)
        want = {(t, e) for t in ENGAGEMENT_TYPES for e in crm_portal.associated("companies", t, company)}
        want |= {(t, e) for t in ENGAGEMENT_TYPES for p in people for e in crm_portal.associated("contacts", t, p)}
        got = [(e.type, int(e.id)) for e in found[str(company)]]
        assert sorted(got) == sorted(want) and len(got) == len(set(got))
        stamps = [e.timestamp for e in found[str(company)] if e.timestamp]
        assert stamps == sorted(stamps, reverse=True)
    for kind in ENGAGEMENT_TYPES:  # one association call per side and type, whatever the number of accounts
        assert crm_server.counts[f"assoc_batch:companies->{kind}"] == 1
        assert crm_server.counts[f"assoc_batch:contacts->{kind}"] == 1


def test_single_deal_and_company(make_gateway: Callable[..., CrmGateway], crm_portal: Portal) -> None:
    gateway = make_gateway()
    record = crm_portal.records("deals")[5]
    assert actual_deal(gateway.deal(str(record.id))) == expected_deals(crm_portal)[str(record.id)]
    company = crm_portal.records("companies")[3]
    assert gateway.company(str(company.id)).name == company.properties["name"]


def test_customer_success_property_names_are_settings(make_gateway: Callable[..., CrmGateway],
                                                      crm_portal: Portal) -> None:
    gateway = make_gateway(hubspot_cs_nps_property="jb_health_score", hubspot_buying_role_property="jobtitle")
    companies = {c.id: c for c in gateway.companies()}
    for record in crm_portal.records("companies"):
        health = record.properties.get("jb_health_score")
        assert companies[str(record.id)].success.nps == (float(str(health)) if health else None)
    contact = gateway.contacts()[0]
    assert contact.buying_roles == (contact.job_title,)


def test_each_engagement_keeps_the_account_contacts_it_involved(make_gateway: Callable[..., CrmGateway],
                                                                crm_portal: Portal) -> None:
    companies = [c.id for c in crm_portal.records("companies")[:60]]
    accounts = {str(c): [str(p) for p in crm_portal.associated("companies", "contacts", c)] for c in companies}
    found = make_gateway().account_engagements(accounts)
    engagements = [e for items in found.values() for e in items]
    for e in engagements:
        linked = {str(i) for i in crm_portal.associated(e.type, "contacts", int(e.id))}
        assert set(e.contact_ids) == linked & set(accounts[e.company_id])
    assert any(e.contact_ids for e in engagements) and not all(e.contact_ids for e in engagements)


def test_two_first_syncs_at_once_write_the_snapshot_once(make_gateway: Callable[..., CrmGateway],
                                                         snapshot_engine: Engine, crm_server: SandboxServer) -> None:
    """The clock's nudge scan and a digest (or two processes) may start the first sync of
    deals together: one lists, the other waits and then reads only what changed."""
    results: list[int] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            results.append(len(make_gateway(engine=snapshot_engine).deals()))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and results == [len(crm_server.portal.records("deals"))] * 2
