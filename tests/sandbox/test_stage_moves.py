"""Deals move through stages in the sandbox as HubSpot records it: what the real client
reads afterwards (stage, stage dates, history, search by last-modified) and the signed
webhooks sent for each move."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.deals import PublicObjectSearchRequest
from urllib3.util.retry import Retry

from sandbox.generator import generate_portal
from sandbox.model import Portal, PortalSize, iso_to_ms
from sandbox.server import SandboxServer
from sandbox.stage_moves import StageMoveError, move_deal
from sandbox.webhooks import WebhookTarget
from tests.sandbox.conftest import NOW, TOKEN

SECRET = "sandbox-client-secret-0123"
SMALL = PortalSize(companies=20, contacts=60, deals=60, engagements=50)


@pytest.fixture
def portal() -> Portal:
    """Fresh per test: moves change it."""
    return generate_portal(7, SMALL, now=NOW, stage_props_coverage=1.0)


def open_deal(portal: Portal, pipeline: str = "default") -> int:
    return next(d.id for d in portal.records("deals")
                if d.properties["hs_is_closed"] == "false" and d.properties["pipeline"] == pipeline)


def admin(server: SandboxServer, path: str, body: dict[str, Any], token: str | None = TOKEN) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(server.base_url + path, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def client_for(server: SandboxServer) -> HubSpot:
    return HubSpot(access_token=TOKEN, host=server.base_url, retry=Retry(total=0, raise_on_status=False))


def test_a_moved_deal_reads_back_as_hubspot_records_it(portal: Portal) -> None:
    deal_id = open_deal(portal)
    old = str(portal.objects["deals"][deal_id].properties["dealstage"])
    with SandboxServer(portal, token=TOKEN, rate_limit=None, search_rate_limit=None) as server:
        status, body = admin(server, f"/_sandbox/deals/{deal_id}/stage", {"stage": "closedlost"})
        assert status == 200 and body["fromStage"] == old and body["toStage"] == "closedlost"
        at = int(body["at"])
        assert at >= int(time.time() * 1000) - 60_000  # "now" by default: after every generated change
        client = client_for(server)
        deal = client.crm.deals.basic_api.get_by_id(
            str(deal_id), properties=["dealstage", "hs_v2_date_entered_closedlost", f"hs_v2_date_exited_{old}",
                                      "hs_v2_date_entered_current_stage", "hs_is_closed", "hs_is_closed_won"],
            properties_with_history=["dealstage"])
        props = deal.properties
        assert props["dealstage"] == "closedlost" and props["hs_is_closed"] == "true" and props["hs_is_closed_won"] == "false"
        assert iso_to_ms(props["hs_v2_date_entered_closedlost"]) == at == iso_to_ms(props[f"hs_v2_date_exited_{old}"])
        assert iso_to_ms(props["hs_v2_date_entered_current_stage"]) == at
        newest, previous = deal.properties_with_history["dealstage"][:2]  # newest first, as HubSpot serves it
        assert (newest.value, int(newest.timestamp.timestamp() * 1000)) == ("closedlost", at)
        assert previous.value == old
        request = PublicObjectSearchRequest(filter_groups=[{"filters": [
            {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": str(at)}]}], properties=["dealstage"])
        found = client.crm.deals.search_api.do_search(public_object_search_request=request)
        assert [d.id for d in found.results] == [str(deal_id)]  # an incremental sync finds exactly the moved deal


def test_a_move_at_a_given_time_and_the_refusals(portal: Portal) -> None:
    deal_id = open_deal(portal)
    deal = portal.objects["deals"][deal_id]
    with SandboxServer(portal, token=TOKEN, rate_limit=None, search_rate_limit=None) as server:
        before = server.total_requests
        at = "2025-06-02T09:30:00.000Z"  # a day after the portal's "now"
        status, body = admin(server, f"/_sandbox/deals/{deal_id}/stage", {"stage": "contractsent", "at": at})
        assert status == 200 and body["at"] == iso_to_ms(at)
        assert deal.properties["hs_lastmodifieddate"] == iso_to_ms(at) == deal.updated_ms
        assert portal.deal_paths[deal_id][-1] == ("contractsent", iso_to_ms(at), None)
        assert portal.deal_paths[deal_id][-2][2] == iso_to_ms(at)  # the previous stage was left then
        refused = [
            admin(server, f"/_sandbox/deals/{deal_id}/stage", {"stage": "closedwon"}, token=None),  # no token
            admin(server, f"/_sandbox/deals/{deal_id}/stage", {"stage": "closedwon"}, token="wrong"),
            admin(server, f"/_sandbox/deals/{deal_id}/stage", {"stage": "renewalwon"}),  # another pipeline's stage
            admin(server, f"/_sandbox/deals/{deal_id}/stage", {"stage": "contractsent"}),  # already there
            admin(server, f"/_sandbox/deals/{deal_id}/stage", {"stage": "closedwon", "at": "2025-06-01T00:00:00Z"}),
            admin(server, f"/_sandbox/deals/{deal_id}/stage", {"stage": "closedwon", "at": "yesterday"}),
            admin(server, f"/_sandbox/deals/{deal_id}/stage", {}),
            admin(server, "/_sandbox/deals/999/stage", {"stage": "closedwon"}),
            admin(server, "/_sandbox/deals/advance", {"count": 0}),
        ]
        assert [status for status, _ in refused] == [401, 401, 400, 400, 400, 400, 400, 404, 400]
        assert deal.properties["dealstage"] == "contractsent"
        assert server.total_requests == before  # test controls are not API traffic


def test_time_passes_moves_open_deals_one_stage_forward(portal: Portal) -> None:
    stages = {d.id: str(d.properties["dealstage"]) for d in portal.records("deals")}
    with SandboxServer(portal, token=TOKEN, rate_limit=None, search_rate_limit=None) as server:
        status, body = admin(server, "/_sandbox/deals/advance", {"count": 5, "seed": 3})
    assert status == 200 and len(body["moves"]) == 5
    for move in body["moves"]:
        deal_id = int(move["dealId"])
        pipe = next(p for p in portal.pipelines if p.id == portal.objects["deals"][deal_id].properties["pipeline"])
        order = [s.id for s in pipe.open_stages] + [pipe.won_stage.id]
        assert move["fromStage"] == stages[deal_id] and order.index(move["toStage"]) == order.index(stages[deal_id]) + 1
    untouched = {d for d in stages if str(d) not in {m["dealId"] for m in body["moves"]}}
    assert all(portal.objects["deals"][d].properties["dealstage"] == stages[d] for d in untouched)


def test_move_deal_in_process_keeps_time_in_order(portal: Portal) -> None:
    deal_id = open_deal(portal)
    entered = portal.deal_paths[deal_id][-1][1]
    with pytest.raises(StageMoveError):
        move_deal(portal, deal_id, "closedwon", entered - 1)  # before the deal entered its stage
    move = move_deal(portal, deal_id, "closedwon", portal.now_ms)
    assert (move.to_stage, portal.objects["deals"][deal_id].properties["closedate"]) == ("closedwon", portal.now_ms)
    assert portal.objects["deals"][deal_id].history["dealstage"][-1] == ("closedwon", portal.now_ms)


class Receiver:
    """A local HTTP endpoint recording what it receives; answers `statuses` in turn, then 204."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.statuses = list(statuses or [])
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, raw))
                self.send_response(outer.statuses.pop(0) if outer.statuses else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def expected_signature(secret: str, uri: str, body: bytes, timestamp: str) -> str:
    """HubSpot's documented v3 formula, written out independently of the sandbox's code."""
    message = b"POST" + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def test_each_move_sends_a_signed_hubspot_webhook(portal: Portal, receiver: Receiver) -> None:
    url = f"http://127.0.0.1:{receiver.port}/hooks/hubspot?source=sandbox%3Ademo"
    deal_id = open_deal(portal)
    target = WebhookTarget(url, app_id=424_242, client_secret=SECRET)
    with SandboxServer(portal, token=TOKEN, rate_limit=None, search_rate_limit=None, webhooks=target) as server:
        started = time.monotonic()
        status, body = admin(server, f"/_sandbox/deals/{deal_id}/stage", {"stage": "closedwon"})
        assert status == 200 and time.monotonic() - started < 1.0  # the admin call does not wait for delivery
        assert server.webhooks is not None and server.webhooks.wait_idle(10)
    [(path, headers, raw)] = receiver.requests
    assert path == "/hooks/hubspot?source=sandbox%3Ademo"
    timestamp = headers["x-hubspot-request-timestamp"]
    assert abs(int(timestamp) - time.time() * 1000) < 60_000  # milliseconds
    # HubSpot signs the URI with %3A (and a few others) decoded.
    signed_uri = f"http://127.0.0.1:{receiver.port}/hooks/hubspot?source=sandbox:demo"
    assert hmac.compare_digest(headers["x-hubspot-signature-v3"], expected_signature(SECRET, signed_uri, raw, timestamp))
    assert headers["x-hubspot-signature-v3"] != expected_signature("another-secret", signed_uri, raw, timestamp)
    [event] = json.loads(raw)
    assert event["subscriptionType"] == "deal.propertyChange" and event["propertyName"] == "dealstage"
    assert (event["objectId"], event["propertyValue"], event["appId"]) == (deal_id, "closedwon", 424_242)
    assert event["occurredAt"] == body["at"] and event["attemptNumber"] == 0
    assert {"eventId", "subscriptionId", "portalId", "changeSource"} <= set(event)


def test_a_failed_delivery_is_retried_and_a_batch_carries_every_move(portal: Portal) -> None:
    receiver = Receiver(statuses=[500])
    try:
        target = WebhookTarget(f"http://127.0.0.1:{receiver.port}/h", app_id=1, client_secret=SECRET, backoff_s=0.05)
        with SandboxServer(portal, token=TOKEN, rate_limit=None, search_rate_limit=None, webhooks=target) as server:
            status, body = admin(server, "/_sandbox/deals/advance", {"count": 3, "seed": 1})
            assert status == 200 and server.webhooks is not None and server.webhooks.wait_idle(10)
            assert [(d.attempt, d.status) for d in server.webhooks.deliveries] == [(0, 500), (1, 204)]
    finally:
        receiver.close()
    first, second = (json.loads(raw) for _, _, raw in receiver.requests)
    assert [e["eventId"] for e in first] == [e["eventId"] for e in second]  # the same events, sent again
    assert {e["attemptNumber"] for e in second} == {1}
    assert sorted(e["objectId"] for e in second) == sorted(int(m["dealId"]) for m in body["moves"])
    for _, headers, raw in receiver.requests[1:]:
        assert headers["x-hubspot-signature-v3"] == expected_signature(
            SECRET, f"http://127.0.0.1:{receiver.port}/h", raw, headers["x-hubspot-request-timestamp"])
