"""`POST /hubspot/webhooks` (bot.http routes it here): HubSpot's deal-stage webhooks,
the optional real-time path.

Like a Slack request it is only verified, claimed, enqueued and acked: the v3 signature
(base64 HMAC-SHA256 of method + URI + body + timestamp under the app's client secret) and
a timestamp no older than 5 minutes (HubSpot's rule) and not from the future; events other
than `deal.propertyChange` on `dealstage` are ignored; each event id is claimed once in
the database (HubSpot retries and may deliver twice); the deals of new events become one
`deals` job on the Slack work queue. A lost webhook costs nothing: the clock's scan of the
CRM finds every stage change anyway.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

from bot.http import post_length, refuse
from bot.jobs import Job
from bot.runtime import BotRuntime
from bot.work_queue import WorkQueue
from skills.outcome import new_error_id
from storage.slack_state import claim_event, release_event

log = logging.getLogger(__name__)

MAX_BODY = 1_000_000  # HubSpot batches up to 100 events, each well under 1 kB
MAX_AGE_MS = 5 * 60 * 1000  # HubSpot: reject a request whose timestamp is older than 5 minutes
MAX_AHEAD_MS = 30_000  # clock skew tolerated the other way
SUBSCRIPTION = "deal.propertyChange"
PROPERTY = "dealstage"
# HubSpot decodes these percent-encodings in the URI before signing; so must we.
DECODED_IN_URI = (("%3A", ":"), ("%2F", "/"), ("%3F", "?"), ("%40", "@"), ("%21", "!"), ("%24", "$"),
                  ("%27", "'"), ("%28", "("), ("%29", ")"), ("%2A", "*"), ("%2C", ","), ("%3B", ";"))

StartResponse = Callable[..., Any]


class Refused(Exception):
    """A request that is not a genuine, fresh, well-formed HubSpot webhook."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def signature_v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    for encoded, plain in DECODED_IN_URI:
        uri = uri.replace(encoded, plain).replace(encoded.lower(), plain)
    message = method.encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def verify(secret: str, method: str, uri: str, body: bytes, headers: dict[str, str], now_ms: int) -> None:
    """Raises Refused (401) unless the v3 signature matches and the timestamp is fresh."""
    timestamp = headers.get("x-hubspot-request-timestamp", "")
    signature = headers.get("x-hubspot-signature-v3", "")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 15) or not signature:
        raise Refused("401 Unauthorized", "no v3 signature or timestamp")
    if now_ms - int(timestamp) > MAX_AGE_MS:
        raise Refused("401 Unauthorized", "timestamp older than 5 minutes")
    if int(timestamp) - now_ms > MAX_AHEAD_MS:
        raise Refused("401 Unauthorized", "timestamp in the future")
    if not hmac.compare_digest(signature_v3(secret, method, uri, body, timestamp).encode(), signature.encode()):
        raise Refused("401 Unauthorized", "signature does not match")


def stage_changes(body: bytes) -> list[tuple[str, str]]:
    """(claim key, deal id) of each dealstage change in a batch; other events are skipped."""
    try:
        events = json.loads(body)
    except ValueError as exc:
        raise Refused("400 Bad Request", "body is not JSON") from exc
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise Refused("400 Bad Request", "body is not a list of events")
    out = []
    for event in events:
        if event.get("subscriptionType") != SUBSCRIPTION or event.get("propertyName") != PROPERTY:
            continue
        event_id, deal_id = event.get("eventId"), event.get("objectId")
        if not _is_id(event_id) or not _is_id(deal_id):
            raise Refused("400 Bad Request", "a dealstage event without eventId or objectId")
        portal = event.get("portalId")
        out.append((f"hubspot:{portal if _is_id(portal) else ''}:{event_id}", str(deal_id)))  # <= 49 characters
    return out


def _is_id(value: object) -> bool:
    """A HubSpot id: a non-negative integer of at most 20 digits, or such a string."""
    return (isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**20) or (
        isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20)


def request_uri(environ: dict[str, Any]) -> str:
    """The URL HubSpot called, as it signed it: behind a proxy, X-Forwarded-Proto/-Host
    name the public scheme and host (spoofing them gains nothing: the secret still signs)."""
    scheme = (environ.get("HTTP_X_FORWARDED_PROTO") or environ.get("wsgi.url_scheme", "http")).split(",")[0].strip()
    host = (environ.get("HTTP_X_FORWARDED_HOST") or environ.get("HTTP_HOST") or
            f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}").split(",")[0].strip()
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not raw:
        raw = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), safe="/:@!$&'()*+,;=-._~")
        if environ.get("QUERY_STRING"):
            raw += "?" + environ["QUERY_STRING"]
    return f"{scheme}://{host}{raw}"


class HubSpotWebhooks:
    """The WSGI handler of /hubspot/webhooks; built only when the client secret is configured."""

    def __init__(self, runtime: BotRuntime, queue: WorkQueue, *, clock: Callable[[], float] = time.time) -> None:
        secret = runtime.settings.hubspot_client_secret
        if secret is None:
            raise ValueError("JOURNEYBOT_HUBSPOT_CLIENT_SECRET is not set")
        self._secret = secret
        self._runtime = runtime
        self._queue = queue
        self._clock = clock

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = post_length(environ, MAX_BODY)
        if isinstance(length, tuple):
            return refuse(start_response, *length)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
        try:
            verify(self._secret.get_secret_value(), "POST", request_uri(environ), body, headers,
                   int(self._clock() * 1000))
            changes = stage_changes(body)
        except Refused as refused:
            log.warning("HubSpot webhook refused (%s): %s", refused.status.split()[0], refused)
            return refuse(start_response, refused.status, str(refused).lower())
        try:
            self._enqueue(changes)
        except Exception:  # noqa: BLE001 - HubSpot retries a failed delivery
            log.exception("HubSpot webhook not queued (error id %s)", new_error_id())
            return refuse(start_response, "503 Service Unavailable", "not queued, retry later")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b""]

    def _enqueue(self, changes: list[tuple[str, str]]) -> None:
        """Claim each event once; queue one job for the deals of events not seen before."""
        if not changes:
            return
        with self._runtime.session() as session:
            claimed = [(key, deal) for key, deal in changes if claim_event(session, key)]
        if len(claimed) < len(changes):
            log.info("HubSpot webhook: %d of %d dealstage events were seen before; ignored",
                     len(changes) - len(claimed), len(changes))
        deal_ids = list(dict.fromkeys(deal for _, deal in claimed))
        if not deal_ids:
            return
        try:
            self._queue.enqueue(Job.deal_changes(deal_ids))
        except Exception:
            with self._runtime.session() as session:  # not queued: HubSpot's retry must get through
                for key, _ in claimed:
                    release_event(session, key)
            raise

