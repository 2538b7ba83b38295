"""The one write to HubSpot: a note on a deal (a rep's "Sent it"), and the token's scopes
that decide whether to try it at all.

HubSpot's notes API asks for the contacts write scope (its notes reference lists
crm.objects.contacts.write); the note is tied to the deal with the HUBSPOT_DEFINED
note -> deal association, type id 214. Scopes come from the private-app token info
endpoint, read once per gateway, so a missing scope is named before any write is tried.
Both calls go through the Transport (rate limits, retries, typed errors).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hubspot.crm.objects.notes import (
    AssociationSpec,
    PublicAssociationsForObject,
    PublicObjectId,
    SimplePublicObjectInputForCreate,
)

from skills.crm.client import Transport

NOTE_WRITE_SCOPES = ("crm.objects.contacts.write",)
NOTE_TO_DEAL = 214  # HubSpot-defined association type id: note -> deal
TOKEN_INFO_PATH = "/oauth/v2/private-apps/get/access-token-info"


class HttpStatusError(Exception):
    """A non-2xx answer of a raw request, shaped like the client's ApiException (status,
    body, headers) so the Transport retries and types it the same way."""

    def __init__(self, status: int, body: str, headers: dict[str, str]) -> None:
        super().__init__(f"HTTP {status}")
        self.status, self.body, self.headers, self.reason = status, body, headers, f"HTTP {status}"


def token_scopes(transport: Transport) -> frozenset[str]:
    """The scopes granted to the configured private-app token."""
    token = transport.client.access_token or ""
    base = transport.settings.hubspot_base_url.rstrip("/")

    def ask(_request_timeout: Any = None) -> dict[str, Any]:
        response = transport.client.api_request({"method": "POST", "path": TOKEN_INFO_PATH, "base_url": base,
                                                 "body": {"tokenKey": token}})
        if response.status_code >= 300:
            raise HttpStatusError(response.status_code, response.text, dict(response.headers))
        parsed = json.loads(response.text or "{}")
        return parsed if isinstance(parsed, dict) else {}

    info = transport.call("token info", ask)
    return frozenset(str(s) for s in info.get("scopes") or [])


def missing_note_scopes(scopes: frozenset[str]) -> tuple[str, ...]:
    return tuple(s for s in NOTE_WRITE_SCOPES if s not in scopes)


def create_deal_note(transport: Transport, deal_id: str, body: str, at: dt.datetime) -> str:
    """Log `body` as a note on the deal's timeline at `at`; returns the note's id."""
    api = transport.client.crm.objects.notes.basic_api
    request = SimplePublicObjectInputForCreate(
        properties={"hs_note_body": body, "hs_timestamp": at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")},
        associations=[PublicAssociationsForObject(
            to=PublicObjectId(id=str(deal_id)),
            types=[AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=NOTE_TO_DEAL)])])
    created = transport.call("note create", api.create, simple_public_object_input_for_create=request)
    return str(created.id)
