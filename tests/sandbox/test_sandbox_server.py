"""The sandbox speaks HubSpot's API: the real client parses every response, and limits,
errors and faults look like HubSpot's."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import (
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicFetchAssociationsBatchRequest,
)
from hubspot.crm.deals import BatchReadInputSimplePublicObjectId, PublicObjectSearchRequest, SimplePublicObjectId
from urllib3.util.retry import Retry

from sandbox.model import Portal
from sandbox.server import SandboxServer

TOKEN = "sandbox-test-token"


def _search(client: HubSpot, groups: list[dict[str, Any]], **kw: Any) -> Any:
    request = PublicObjectSearchRequest(filter_groups=groups, **kw)
    return client.crm.deals.search_api.do_search(public_object_search_request=request)


def _status(call: Any) -> tuple[int, dict[str, Any], Any]:
    with pytest.raises(Exception) as info:
        call()
    return info.value.status, json.loads(info.value.body), info.value.headers  # type: ignore[attr-defined]


def test_list_pages_through_every_deal(client: HubSpot, portal: Portal) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = client.crm.deals.basic_api.get_page(limit=100, after=after, properties=["dealname", "amount"])
        seen += [d.id for d in page.results]
        if not page.paging:
            break
        after = page.paging.next.after
    assert seen == [str(d.id) for d in portal.records("deals")]
    assert page.results[-1].properties["amount"] == portal.records("deals")[-1].properties["amount"]


def test_list_limit_and_batch_size_are_enforced(client: HubSpot, portal: Portal) -> None:
    assert _status(lambda: client.crm.deals.basic_api.get_page(limit=101))[0] == 400
    ids = [SimplePublicObjectId(id=str(d.id)) for d in portal.records("deals")[:101]]
    too_many = BatchReadInputSimplePublicObjectId(inputs=ids, properties=["dealname"])
    assert _status(lambda: client.crm.deals.batch_api.read(too_many))[0] == 400
    history = BatchReadInputSimplePublicObjectId(inputs=ids[:51], properties=["dealname"],
                                                 properties_with_history=["dealstage"])
    assert _status(lambda: client.crm.deals.batch_api.read(history))[0] == 400
    ok = client.crm.deals.batch_api.read(BatchReadInputSimplePublicObjectId(
        inputs=ids[:50], properties=["dealname"], properties_with_history=["dealstage"]))
    assert len(ok.results) == 50 and ok.results[0].properties_with_history["dealstage"]


def test_search_filters_match_python(client: HubSpot, portal: Portal) -> None:
    deals = portal.records("deals")
    won = [d for d in deals if d.properties["dealstage"] == "closedwon"]
    result = _search(client, [{"filters": [{"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"}]}],
                     limit=200)
    assert result.total == len(won)
    big = [d for d in deals if float(str(d.properties["amount"])) >= 30000
           and d.properties["pipeline"] in ("default",)]
    result = _search(client, [{"filters": [
        {"propertyName": "amount", "operator": "GTE", "value": "30000"},
        {"propertyName": "pipeline", "operator": "IN", "values": ["default"]}]}], limit=1)
    assert result.total == len(big)
    either = _search(client, [
        {"filters": [{"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"}]},
        {"filters": [{"propertyName": "dealstage", "operator": "EQ", "value": "closedlost"}]}], limit=1)
    assert either.total == len(won) + sum(d.properties["dealstage"] == "closedlost" for d in deals)
    has = _search(client, [{"filters": [{"propertyName": "hs_v2_date_exited_closedwon",
                                         "operator": "HAS_PROPERTY"}]}], limit=1)
    assert has.total == 0
    token = _search(client, [{"filters": [{"propertyName": "dealname", "operator": "CONTAINS_TOKEN",
                                           "value": "Pilot"}]}], limit=1)
    assert token.total == sum("Pilot" in str(d.properties["dealname"]) for d in deals)
    since = portal.now_ms - 30 * 86_400_000
    recent = _search(client, [{"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE",
                                            "value": str(since)}]}], limit=200,
                     sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "DESCENDING"}])
    assert recent.total == sum(int(d.properties["hs_lastmodifieddate"]) >= since for d in deals)
    stamps = [r.properties["hs_lastmodifieddate"] for r in recent.results]
    assert stamps == sorted(stamps, reverse=True)


def test_search_caps_give_400(client: HubSpot) -> None:
    flt = {"propertyName": "amount", "operator": "GT", "value": "0"}
    assert _status(lambda: _search(client, [], limit=201))[0] == 400
    assert _status(lambda: _search(client, [], limit=100, after="10000"))[0] == 400
    assert _status(lambda: _search(client, [{"filters": [flt]}] * 6, limit=1))[0] == 400
    assert _status(lambda: _search(client, [{"filters": [flt] * 7}], limit=1))[0] == 400
    assert _status(lambda: _search(client, [{"filters": [flt] * 6}] * 3 + [{"filters": [flt]}], limit=1))[0] == 400
    assert _search(client, [{"filters": [flt] * 6}] * 3, limit=1).total > 0


def test_pipelines_owners_associations_properties(client: HubSpot, portal: Portal) -> None:
    pipes = client.crm.pipelines.pipelines_api.get_all(object_type="deals").results
    assert [s.id for s in pipes[0].stages][:2] == ["appointmentscheduled", "qualifiedtobuy"]
    assert len(client.crm.owners.owners_api.get_page(limit=100).results) == len(portal.owners)
    company = portal.records("companies")[0].id
    batch = client.crm.associations.v4.batch_api.get_page("companies", "contacts",
        BatchInputPublicFetchAssociationsBatchRequest(inputs=[PublicFetchAssociationsBatchRequest(id=str(company))]))
    assert [int(t.to_object_id) for t in batch.results[0].to] == portal.associated("companies", "contacts", company)
    assert batch.results[0].to[0].association_types[0].type_id == 280
    names = {p.name for p in client.crm.properties.core_api.get_all(object_type="contacts").results}
    assert {"hs_buying_role", "jobtitle", "lifecyclestage"} <= names


def test_auth_and_scopes(server: SandboxServer, portal: Portal) -> None:
    bad = HubSpot(access_token="wrong", host=server.base_url, retry=Retry(total=0, raise_on_status=False))
    status, body, _ = _status(lambda: bad.crm.deals.basic_api.get_page(limit=1))
    assert status == 401 and body["category"] == "INVALID_AUTHENTICATION"
    server.scopes = {"crm.objects.companies.read"}
    good = HubSpot(access_token=TOKEN, host=server.base_url, retry=Retry(total=0, raise_on_status=False))
    status, body, _ = _status(lambda: good.crm.deals.basic_api.get_page(limit=1))
    assert status == 403 and body["category"] == "MISSING_SCOPES"
    assert body["errors"][0]["context"]["requiredGranularScopes"] == ["crm.objects.deals.read"]
    assert good.crm.companies.basic_api.get_page(limit=1).results


def test_rate_limit_429_and_headers(portal: Portal) -> None:
    with SandboxServer(portal, token=TOKEN, rate_limit=(3, 5.0)) as srv:
        client = HubSpot(access_token=TOKEN, host=srv.base_url, retry=Retry(total=0, raise_on_status=False))
        _, _, headers = client.crm.deals.basic_api.get_page_with_http_info(limit=1)
        assert headers["X-HubSpot-RateLimit-Max"] == "3" and headers["X-HubSpot-RateLimit-Remaining"] == "2"
        client.crm.deals.basic_api.get_page(limit=1)
        client.crm.deals.basic_api.get_page(limit=1)
        status, body, _ = _status(lambda: client.crm.deals.basic_api.get_page(limit=1))
        assert status == 429 and body["errorType"] == "RATE_LIMIT"
        assert body["policyName"] == "TEN_SECONDLY_ROLLING" and srv.rate_limited == 1


def test_search_rate_limit_is_per_second(portal: Portal) -> None:
    with SandboxServer(portal, token=TOKEN, rate_limit=None, search_rate_limit=(5, 1.0)) as srv:
        client = HubSpot(access_token=TOKEN, host=srv.base_url, retry=Retry(total=0, raise_on_status=False))
        for _ in range(5):
            _search(client, [], limit=1)
        assert _status(lambda: _search(client, [], limit=1))[0] == 429
        time.sleep(1.05)
        assert _search(client, [], limit=1).total == 600


def test_fault_injection(server: SandboxServer, client: HubSpot) -> None:
    server.faults.fail_next(2, 503, retry_after=1)
    status, _, headers = _status(lambda: client.crm.deals.basic_api.get_page(limit=1))
    assert status == 503 and headers["Retry-After"] == "1"
    assert _status(lambda: client.crm.deals.basic_api.get_page(limit=1))[0] == 503
    assert client.crm.deals.basic_api.get_page(limit=1).results
    assert server.counts["list:deals"] == 3 and server.statuses[503] == 2
