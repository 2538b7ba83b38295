"""Webhooks from the sandbox, shaped and signed as HubSpot sends them.

Each stage move becomes a `deal.propertyChange` event on `dealstage`; the events of one
admin call go out as one batch (a JSON array), POSTed from a background thread so the
admin call returns at once, retried a few times when the receiver fails. Signed with
HubSpot's v3 scheme: base64(HMAC-SHA256(client secret, method + URI + body + timestamp)),
the URI with some percent-encoded characters decoded first (see docs/hubspot.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import logging
import queue
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.stage_moves import StageMove

log = logging.getLogger(__name__)
PORTAL_ID = 4_242_424  # the hubId the sandbox's token-info endpoint reports
# HubSpot decodes these in the URI before signing (and a receiver must too).
DECODED_IN_URI = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'",
                  "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}


@dataclass(frozen=True)
class WebhookTarget:
    """Where and as which app the sandbox sends webhooks (the HubSpot app's settings)."""

    url: str
    app_id: int
    client_secret: str = field(repr=False)
    subscription_id: int = 1_000_001
    attempts: int = 4
    backoff_s: float = 0.2


@dataclass(frozen=True)
class Delivery:
    """One POST of a batch: what was sent and how the receiver answered (0: no answer)."""

    event_ids: tuple[int, ...]
    attempt: int
    status: int


def uri_for_signing(uri: str) -> str:
    out = uri
    for encoded, plain in DECODED_IN_URI.items():
        out = out.replace(encoded, plain).replace(encoded.lower(), plain)
    return out


def sign_v3(client_secret: str, method: str, uri: str, body: bytes, timestamp_ms: str) -> str:
    source = method.encode() + uri_for_signing(uri).encode() + body + timestamp_ms.encode()
    return base64.b64encode(hmac.new(client_secret.encode(), source, hashlib.sha256).digest()).decode()


def signed_headers(client_secret: str, url: str, body: bytes, timestamp_ms: int) -> dict[str, str]:
    """The headers of a HubSpot webhook POST of `body` to `url` at `timestamp_ms`."""
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Request-Timestamp": str(timestamp_ms),
        "X-HubSpot-Signature-v3": sign_v3(client_secret, "POST", url, body, str(timestamp_ms)),
    }


class WebhookSender:
    """Sends batches one after another from one thread; `deliveries` records every attempt."""

    def __init__(self, target: WebhookTarget, *, portal_id: int = PORTAL_ID) -> None:
        self.target = target
        self.portal_id = portal_id
        self.deliveries: list[Delivery] = []
        # HubSpot's event ids are unique across a portal's deliveries; a sender that counted
        # from 1 would repeat an earlier sender's ids, which a receiver rightly drops as seen.
        self._ids = itertools.count(secrets.randbelow(10**12) + 1)
        self._pending: queue.Queue[list[dict[str, Any]] | None] = queue.Queue()
        self._idle = threading.Condition()
        self._busy = 0
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()

    def events(self, moves: Sequence[StageMove]) -> list[dict[str, Any]]:
        return [{
            "eventId": next(self._ids), "subscriptionId": self.target.subscription_id, "portalId": self.portal_id,
            "appId": self.target.app_id, "occurredAt": move.at_ms, "subscriptionType": "deal.propertyChange",
            "attemptNumber": 0, "objectId": move.deal_id, "propertyName": "dealstage",
            "propertyValue": move.to_stage, "changeSource": "CRM_UI", "sourceId": "userId:1",
        } for move in moves]

    def send(self, moves: Sequence[StageMove]) -> None:
        """Queue one batch for these moves (nothing for none)."""
        if moves:
            with self._idle:
                self._busy += 1
            self._pending.put(self.events(moves))

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once every queued batch was delivered or given up on."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def close(self) -> None:
        self._pending.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while (batch := self._pending.get()) is not None:
            try:
                self._deliver(batch)
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        target = self.target
        for attempt in range(target.attempts):
            for event in batch:
                event["attemptNumber"] = attempt
            body = json.dumps(batch, separators=(",", ":")).encode()
            headers = signed_headers(target.client_secret, target.url, body, int(time.time() * 1000))
            request = urllib.request.Request(target.url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    status = int(response.status)
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:
                status = 0
            self.deliveries.append(Delivery(tuple(int(e["eventId"]) for e in batch), attempt, status))
            if 200 <= status < 300:
                return
            time.sleep(target.backoff_s * 2**attempt)
        log.warning("webhook batch of %d events not delivered after %d attempts", len(batch), target.attempts)
