"""The synthetic portal is deterministic and realistic enough for velocity and churn skills."""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections import Counter, defaultdict

from sandbox.generator import generate_portal
from sandbox.model import SALES_PIPELINE, Portal, PortalSize

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)

DAY = 86_400_000


def test_same_seed_same_portal_and_other_seed_differs(portal: Portal) -> None:
    again = generate_portal(7, now=NOW)
    assert [d.properties for d in again.records("deals")] == [d.properties for d in portal.records("deals")]
    assert again.associations == portal.associations
    other = generate_portal(8, now=NOW)
    assert [d.properties for d in other.records("deals")] != [d.properties for d in portal.records("deals")]


def test_default_size(portal: Portal) -> None:
    assert len(portal.records("companies")) == 200
    assert len(portal.records("contacts")) == 1500
    assert len(portal.records("deals")) == 600
    assert sum(len(portal.records(t)) for t in ("calls", "emails", "meetings", "notes", "tasks")) == 20_000
    assert {p.id for p in portal.pipelines} == {"default", "renewals"}


def test_stages_differ_in_conversion_and_days(portal: Portal) -> None:
    entered: Counter[str] = Counter()
    advanced: Counter[str] = Counter()
    days: dict[str, list[float]] = defaultdict(list)
    for path in portal.deal_paths.values():
        for index, (stage, t_in, t_out) in enumerate(path):
            if t_out is None:
                continue
            entered[stage] += 1
            days[stage].append((t_out - t_in) / DAY)
            if index + 1 < len(path) and path[index + 1][0] not in ("closedlost", "renewallost"):
                advanced[stage] += 1
    open_ids = [s.id for s in SALES_PIPELINE.open_stages]
    rates = [advanced[s] / entered[s] for s in open_ids]
    medians = [statistics.median(days[s]) for s in open_ids]
    assert max(rates) - min(rates) > 0.1
    assert max(medians) > 2.5 * min(medians)


def test_won_lost_open_stalled_deals(portal: Portal) -> None:
    stages = Counter(d.properties["dealstage"] for d in portal.records("deals"))
    assert stages["closedwon"] > 20 and stages["closedlost"] > 50
    open_deals = [d for d in portal.records("deals") if d.properties["hs_is_closed"] == "false"]
    assert len(open_deals) > 60
    assert len(portal.stalled_deal_ids) >= 5
    for deal_id in portal.stalled_deal_ids:
        stage, entered, exited = portal.deal_paths[deal_id][-1]
        assert exited is None and portal.now_ms - entered > 3 * DAY * 4  # every median is >= 4 days


def test_customers_in_first_90_days_and_committees(portal: Portal) -> None:
    customers = [c for c in portal.records("companies") if c.properties.get("jb_onboarding_start_date")]
    recent = [c for c in customers if str(c.properties["jb_onboarding_start_date"]) >= "2025-03-03"]
    assert len(customers) > 20 and len(recent) >= 3
    assert any("jb_nps_score" in c.properties for c in customers)
    assert any("jb_first_value_date" not in c.properties for c in customers)
    roles_by_company: dict[int, set[str]] = defaultdict(set)
    for contact in portal.records("contacts"):
        company = int(contact.properties["associatedcompanyid"])
        roles_by_company[company] |= set(str(contact.properties.get("hs_buying_role", "")).split(";")) - {""}
    with_dm = sum("DECISION_MAKER" in r for r in roles_by_company.values())
    assert 0 < with_dm < len(roles_by_company)


def test_larger_portal_generates_in_seconds() -> None:
    started = time.perf_counter()
    big = generate_portal(3, PortalSize.for_deals(5000), now=NOW)
    assert len(big.records("deals")) == 5000
    assert time.perf_counter() - started < 10


def test_engagement_contacts_belong_to_the_company(portal: Portal) -> None:
    """Engagements involve the company's own contacts; linking them draws on a separate
    random stream, so the rest of the portal is what it was before they existed."""
    linked = 0
    for kind in ("calls", "emails", "meetings", "notes", "tasks"):
        for company_id, engagement_ids in portal.associations[("companies", kind)].items():
            staff = set(portal.associated("companies", "contacts", company_id))
            for eid in engagement_ids:
                people = portal.associated(kind, "contacts", eid)
                assert set(people) <= staff and len(people) <= 2
                assert all(eid in portal.associated("contacts", kind, c) for c in people)
                linked += bool(people)
    assert linked > 10_000
