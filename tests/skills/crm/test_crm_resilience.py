"""Faults, auth, pacing, the search cap and the snapshot cache, against a real sandbox."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy.engine import Engine

import sandbox.search
import skills.crm.fetch
from config import Settings
from sandbox.faults import Fault, FaultPlan
from sandbox.generator import generate_portal
from sandbox.model import ENGAGEMENT_TYPES, Portal, PortalSize
from sandbox.server import SandboxServer
from skills.crm import CrmAuthError, CrmGateway, CrmUnavailable
from skills.crm.ratelimit import RateLimiter
from tests.skills.crm.crm_expect import check_deals

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
TOKEN = "crm-test-token"


def test_twenty_percent_failures_still_complete_and_correct(make_gateway: Callable[..., CrmGateway],
                                                             crm_portal: Portal, crm_server: SandboxServer) -> None:
    crm_server.faults.configure(FaultPlan(rate=0.2, seed=5, kinds=(
        Fault(429, 0.01), Fault(429, None), Fault(500), Fault(502), Fault(503))))
    gateway = make_gateway(hubspot_max_retries=8)
    check_deals(gateway.deals(), crm_portal)
    assert len(gateway.contacts()) == 1500
    assert [c.id for c in gateway.companies()] == [str(c.id) for c in crm_portal.records("companies")]
    ids = [str(c.id) for c in crm_portal.records("companies")]
    links = gateway.company_associations(ids)
    assert all(list(links[i].deal_ids) == [str(x) for x in crm_portal.associated("companies", "deals", int(i))]
               for i in ids)
    assert len(gateway.owners()) == len(crm_portal.owners) and len(gateway.pipelines()) == 2
    assert gateway.stats.retries > 5 and gateway.stats.throttled > 0 and gateway.stats.server_errors > 0
    assert crm_server.faults.injected == gateway.stats.retries


def test_retry_after_is_honoured(make_gateway: Callable[..., CrmGateway], crm_server: SandboxServer) -> None:
    crm_server.faults.fail_next(1, 429, retry_after=0.6)
    started = time.perf_counter()
    assert len(make_gateway().owners()) > 0
    assert time.perf_counter() - started >= 0.6


def test_persistent_failure_raises_instead_of_partial_data(make_gateway: Callable[..., CrmGateway],
                                                           crm_server: SandboxServer) -> None:
    gateway = make_gateway(hubspot_max_retries=2)
    crm_server.faults.configure(FaultPlan(rate=0.6, seed=3, kinds=(Fault(503),)))
    with pytest.raises(CrmUnavailable) as info:
        gateway.contacts()  # 15 pages: one of them exhausts its retries
    assert info.value.attempts == 3 and info.value.status == 503
    assert "no partial result" in str(info.value)
    crm_server.faults.clear()
    crm_server.faults.fail_next(10, 500)
    with pytest.raises(CrmUnavailable):
        make_gateway(hubspot_max_retries=1).owners()


def test_connection_refused_is_a_typed_error(make_gateway: Callable[..., CrmGateway]) -> None:
    dead = SandboxServer(generate_portal(1, PortalSize(5, 5, 5, 5), now=NOW), token=TOKEN)
    url = dead.base_url
    dead.stop()
    gateway = CrmGateway(make_gateway().settings.model_copy(update={"hubspot_base_url": url,
                                                                     "hubspot_max_retries": 2}))
    with pytest.raises(CrmUnavailable) as info:
        gateway.pipelines()
    assert "connection error" in str(info.value)


def test_wrong_or_missing_token(make_gateway: Callable[..., CrmGateway]) -> None:
    with pytest.raises(CrmAuthError) as info:
        make_gateway(hubspot_access_token="nope").deals()
    assert info.value.status == 401 and "access token" in str(info.value)
    with pytest.raises(CrmAuthError):
        make_gateway(hubspot_access_token=None)
    report = make_gateway(hubspot_access_token="nope").check()
    assert not report.token_ok and report.counts == {}


def test_missing_scope_is_named(make_gateway: Callable[..., CrmGateway], crm_server: SandboxServer) -> None:
    crm_server.scopes = {"crm.objects.companies.read", "crm.objects.contacts.read", "crm.schemas.deals.read"}
    gateway = make_gateway()
    with pytest.raises(CrmAuthError) as info:
        gateway.owners()
    assert info.value.status == 403 and info.value.missing_scopes == ("crm.objects.owners.read",)
    assert "crm.objects.owners.read" in str(info.value)
    report = gateway.check()
    assert report.token_ok
    assert report.missing_scopes == ["crm.objects.deals.read", "crm.objects.owners.read"]
    assert report.counts == {"companies": 200, "contacts": 1500}


def test_check_reports_portal_size(make_gateway: Callable[..., CrmGateway]) -> None:
    report = make_gateway().check()
    assert report.token_ok and not report.missing_scopes and not report.problems
    assert report.counts == {"deals": 600, "companies": 200, "contacts": 1500, "owners": 12, "pipelines": 2}


def test_snapshot_second_run_fetches_only_modified(snapshot_engine: Engine,
                                                  settings_for: Callable[..., Settings]) -> None:
    portal = generate_portal(11, now=NOW)
    with SandboxServer(portal, token=TOKEN, rate_limit=None) as server:
        # No overlap here, so the request count is exact; the default overlap re-reads objects
        # modified in the 5 minutes before the last one seen (HubSpot's search lags writes).
        settings = settings_for(server.base_url, hubspot_sync_overlap_s=0)
        gateway = CrmGateway(settings, engine=snapshot_engine)
        first = gateway.deals()
        check_deals(first, portal)
        assert server.counts["list:deals"] == 6
        open_deal = next(d for d in first if not d.is_closed and d.stage_source == "v2")
        server.update_objects("deals", [int(open_deal.id)], {"dealstage": "closedlost", "hs_is_closed": "true"})
        contact = portal.records("contacts")[7]
        server.update_objects("contacts", [contact.id], {"jobtitle": "Chief Everything Officer"})
        server.reset_counters()
        second = CrmGateway(settings, engine=snapshot_engine).deals()
        assert dict(server.counts) == {"pipelines:deals": 1, "search:deals": 1}
        assert len(second) == 600
        changed = next(d for d in second if d.id == open_deal.id)
        assert changed.stage_id == "closedlost" and changed.is_closed
        assert changed.stage_times[-1].stage_id == "closedlost"
        assert [d for d in second if d.id != open_deal.id] == [d for d in first if d.id != open_deal.id]
        gateway.contacts()
        server.reset_counters()
        people = {c.id: c for c in gateway.contacts()}
        assert dict(server.counts) == {"search:contacts": 1}
        assert people[str(contact.id)].job_title == "Chief Everything Officer" and len(people) == 1500


def test_search_window_passes_the_result_cap(make_gateway: Callable[..., CrmGateway], crm_portal: Portal,
                                             crm_server: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # The 10,000 cap scaled down to 400 on both sides so the test needs 1,500 objects, not 10,000+.
    monkeypatch.setattr(sandbox.search, "MAX_RESULTS", 400)
    monkeypatch.setattr(skills.crm.fetch, "SEARCH_CAP", 400)
    rows = make_gateway().fetcher.modified_since("contacts", 0, ["jobtitle"])
    assert sorted(int(r.object_id) for r in rows) == [c.id for c in crm_portal.records("contacts")]
    assert crm_server.statuses[400] == 0 and crm_server.counts["search:contacts"] >= 8


def test_own_pacing_never_causes_429(settings_for: Callable[..., Settings]) -> None:
    portal = generate_portal(11, now=NOW)
    with SandboxServer(portal, token=TOKEN, rate_limit=(20, 2.0), search_rate_limit=(5, 1.0)) as server:
        settings = settings_for(server.base_url, hubspot_rate_limit=20, hubspot_rate_window_s=2.0,
                                hubspot_search_per_second=4)
        gateway = CrmGateway(settings)
        started = time.perf_counter()
        gateway.deals()
        gateway.companies()
        gateway.contacts()
        for kind in ("deals", "companies", "contacts"):
            gateway.fetcher.count(kind)
        gateway.company_associations([str(c.id) for c in portal.records("companies")])
        gateway.deal_contacts([str(d.id) for d in portal.records("deals")])
        elapsed = time.perf_counter() - started
        assert server.rate_limited == 0 and gateway.stats.throttled == 0
        assert server.total_requests == gateway.stats.requests >= 30
        assert elapsed >= 2.0  # more than 20 requests: the limiter had to wait out a window


def test_rate_limiter_window_holds_across_threads() -> None:
    limiter = RateLimiter(5, 0.4)
    stamps: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            with limiter.slot():
                with lock:
                    stamps.append(time.monotonic())
    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps.sort()
    assert len(stamps) == 15
    assert all(stamps[i + 5] - stamps[i] >= 0.4 for i in range(len(stamps) - 5))


def test_long_association_lists_are_paged_not_cut(make_gateway: Callable[..., CrmGateway]) -> None:
    portal = generate_portal(2, PortalSize(companies=2, contacts=10, deals=4, engagements=3000), now=NOW)
    with SandboxServer(portal, token=TOKEN, rate_limit=None) as server:
        gateway = make_gateway(server=server)
        ids = [str(c.id) for c in portal.records("companies")]
        found = gateway.account_engagements({cid: [] for cid in ids})
        for cid in ids:
            assert len(found[cid]) == sum(len(portal.associated("companies", t, int(cid))) for t in ENGAGEMENT_TYPES)
        assert sum(v for k, v in server.counts.items() if k.startswith("assoc_list")) > 0
