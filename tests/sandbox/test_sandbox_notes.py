"""Notes created through the real client land in the sandbox portal, tied to their deal,
and read back like any record; the write scope and HubSpot's checks are enforced."""

from __future__ import annotations

import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import BatchInputPublicFetchAssociationsBatchRequest, PublicFetchAssociationsBatchRequest
from hubspot.crm.objects.notes import (
    AssociationSpec,
    PublicAssociationsForObject,
    PublicObjectId,
    SimplePublicObjectInputForCreate,
)
from urllib3.util.retry import Retry

from sandbox.model import Portal
from sandbox.server import SandboxServer
from tests.sandbox.conftest import TOKEN


def _note(deal_id: str, body: str, *, type_id: int = 214, timestamp: str | None = "2025-06-01T12:00:00.000Z"
          ) -> SimplePublicObjectInputForCreate:
    props = {"hs_note_body": body}
    if timestamp:
        props["hs_timestamp"] = timestamp
    return SimplePublicObjectInputForCreate(properties=props, associations=[PublicAssociationsForObject(
        to=PublicObjectId(id=deal_id),
        types=[AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=type_id)])])


def test_a_note_on_a_deal_reads_back(client: HubSpot, portal: Portal) -> None:
    deal_id = str(next(iter(portal.objects["deals"])))
    before = len(portal.associated("deals", "notes", int(deal_id)))
    created = client.crm.objects.notes.basic_api.create(_note(deal_id, "<p>ROI calculator sent by Ava</p>"))
    again = client.crm.objects.notes.basic_api.get_by_id(created.id, properties=["hs_note_body", "hs_timestamp"])
    assert again.properties["hs_note_body"] == "<p>ROI calculator sent by Ava</p>"
    assert again.properties["hs_timestamp"] == "2025-06-01T12:00:00.000Z"
    page = client.crm.associations.v4.batch_api.get_page("deals", "notes", BatchInputPublicFetchAssociationsBatchRequest(
        inputs=[PublicFetchAssociationsBatchRequest(id=deal_id)]))
    linked = [(int(t.to_object_id), t.association_types[0].type_id) for r in page.results for t in r.to]
    assert (int(created.id), 213) in linked and len(linked) == before + 1
    # Engagement ids stay unique across engagement types, as in HubSpot.
    assert all(int(created.id) not in portal.objects[k] for k in ("calls", "emails", "meetings", "tasks"))


def test_hubspots_checks_are_kept(client: HubSpot, portal: Portal) -> None:
    deal_id = str(next(iter(portal.objects["deals"])))
    api = client.crm.objects.notes.basic_api
    for bad in (_note(deal_id, "x", timestamp=None), _note("999999999", "x"), _note(deal_id, "x", type_id=999)):
        with pytest.raises(Exception) as info:
            api.create(bad)
        assert getattr(info.value, "status", None) == 400


def test_creating_needs_the_write_scope(portal: Portal) -> None:
    read_only = ["crm.objects.deals.read", "crm.objects.contacts.read"]
    with SandboxServer(portal, token=TOKEN, scopes=read_only, rate_limit=None, search_rate_limit=None) as server:
        client = HubSpot(access_token=TOKEN, host=server.base_url, retry=Retry(total=0, raise_on_status=False))
        deal_id = str(next(iter(portal.objects["deals"])))
        with pytest.raises(Exception) as info:
            client.crm.objects.notes.basic_api.create(_note(deal_id, "x"))
        assert getattr(info.value, "status", None) == 403 and "crm.objects.contacts.write" in str(info.value.body)  # type: ignore[attr-defined]
