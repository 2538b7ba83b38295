"""Engagements in the local snapshot (issue #12): reads across many accounts take the
engagements' properties from the snapshot, refreshed incrementally like deals, and give
exactly what reading them by id gives."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine

from config import Settings
from sandbox.generator import generate_portal
from sandbox.model import ENGAGEMENT_TYPES, CrmObject
from sandbox.server import SandboxServer
from skills.crm import CrmGateway
from tests.skills.crm.conftest import CRM_NOW, CRM_TOKEN


def test_account_activity_from_the_snapshot_is_incremental_and_equal(
        snapshot_engine: Engine, settings_for: Callable[..., Settings]) -> None:
    portal = generate_portal(13, now=CRM_NOW)
    companies = [c.id for c in portal.records("companies")[:40]]
    accounts = {str(c): [str(p) for p in portal.associated("companies", "contacts", c)] for c in companies}
    with SandboxServer(portal, token=CRM_TOKEN, rate_limit=None) as server:
        settings = settings_for(server.base_url, hubspot_sync_overlap_s=0)
        direct = CrmGateway(settings).account_engagements(accounts)
        first = CrmGateway(settings, engine=snapshot_engine).account_engagements(accounts, from_snapshot=True)
        assert first == direct
        assert all(server.counts[f"list:{kind}"] >= 1 for kind in ENGAGEMENT_TYPES)
        # A call logged on a contact after the first sync: the second run searches for changes only.
        contact = int(accounts[str(companies[0])][0])
        newest = max(o.updated_ms for kind in ENGAGEMENT_TYPES for o in portal.records(kind))
        call_id = max(max(portal.objects[kind]) for kind in ENGAGEMENT_TYPES) + 1
        portal.objects["calls"][call_id] = CrmObject(call_id, {
            "hs_timestamp": newest, "hs_call_title": "Late call", "hs_lastmodifieddate": newest + 1,
            "hs_object_id": str(call_id)}, newest + 1, newest + 1)
        portal.associations.setdefault(("contacts", "calls"), {}).setdefault(contact, []).append(call_id)
        portal.associations.setdefault(("calls", "contacts"), {})[call_id] = [contact]
        server.reset_counters()
        second = CrmGateway(settings, engine=snapshot_engine).account_engagements(accounts, from_snapshot=True)
        assert not [k for k in server.counts if k.startswith(("list:", "batch_read:"))], dict(server.counts)
        assert {k for k in server.counts if k.startswith("search:")} == {f"search:{t}" for t in ENGAGEMENT_TYPES}
        late = next(e for e in second[str(companies[0])] if e.id == str(call_id))
        assert late.title == "Late call" and late.contact_ids == (str(contact),)
        assert {c: [e for e in es if e.id != str(call_id)] for c, es in second.items()} == first
