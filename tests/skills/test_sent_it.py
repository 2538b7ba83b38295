""""Sent it" on the skill side: the send is recorded once, and with
JOURNEYBOT_HUBSPOT_WRITE_NOTES on a note lands on the deal in the sandbox (read back with
the real client); without the scope no note is tried; a failed write keeps the record."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import BatchInputPublicFetchAssociationsBatchRequest, PublicFetchAssociationsBatchRequest
from sqlmodel import delete
from urllib3.util.retry import Retry

from config import Settings
from knowledge.models import ContentAsset
from sandbox.model import Portal
from sandbox.server import SandboxServer
from skills.context import SkillContext
from skills.sent_it import record_sent
from storage.content_sent import ContentSent, list_content_sent
from storage.engine import session_scope
from tests.skills.account_fixtures import (  # noqa: F401  (fixtures)
    EMAIL,
    NOW,
    TOKEN,
    Planted,
    crm_skill_context,
    planted_portal,
    skill_server,
)

STAGE = "qualifiedtobuy"


def _ctx(base: SkillContext, **overrides: Any) -> SkillContext:
    settings = Settings.from_mapping({**base.settings.model_dump(), "hubspot_write_notes": True, **overrides})
    return SkillContext(settings, base.knowledge, clock=lambda: NOW)


@pytest.fixture
def base_ctx(sample_service: Any, skill_server: SandboxServer, tmp_path: Path) -> Iterator[SkillContext]:
    with crm_skill_context(sample_service, skill_server, tmp_path) as ctx:
        with session_scope(ctx.engine) as session:  # the sample engine is shared by the session's tests
            session.exec(delete(ContentSent))  # type: ignore[call-overload]
        yield ctx


def _asset(ctx: SkillContext) -> ContentAsset:
    return next(a for a in ctx.journey_map.assets if "consideration" in a.stages)


def _deal_notes(server: SandboxServer, deal_id: int) -> list[str]:
    client = HubSpot(access_token=TOKEN, host=server.base_url, retry=Retry(total=0, raise_on_status=False))
    page = client.crm.associations.v4.batch_api.get_page("deals", "notes", BatchInputPublicFetchAssociationsBatchRequest(
        inputs=[PublicFetchAssociationsBatchRequest(id=str(deal_id))]))
    ids = [str(t.to_object_id) for r in page.results for t in r.to]
    return [client.crm.objects.notes.basic_api.get_by_id(i, properties=["hs_note_body"]).properties["hs_note_body"]
            for i in ids]


def test_the_note_lands_on_the_deal_once(base_ctx: SkillContext, skill_server: SandboxServer,
                                         planted_portal: tuple[Portal, Planted]) -> None:
    deal_id = planted_portal[1].open_deal_id
    asset = _asset(base_ctx)
    before = _deal_notes(skill_server, deal_id)
    ctx = _ctx(base_ctx)
    first = record_sent(ctx, deal_id=str(deal_id), crm_stage_id=STAGE, asset_id=asset.id, user="U0REP",
                        sender_name="Ava Rep")
    assert (first.new, first.note, first.note_problem, first.asset_title) == (True, "written", None, asset.title)
    notes = _deal_notes(skill_server, deal_id)
    assert len(notes) == len(before) + 1
    body = next(n for n in notes if n not in before)
    assert asset.title in body and str(asset.url) in body and "Ava Rep" in body and "Consideration" in body
    assert not EMAIL.search(body.replace(str(asset.url), ""))
    again = record_sent(_ctx(base_ctx), deal_id=str(deal_id), crm_stage_id=STAGE, asset_id=asset.id, user="U0OTHER",
                        sender_name="Ben")
    assert (again.new, again.sent_by, again.note) == (False, "U0REP", "already")
    assert len(_deal_notes(skill_server, deal_id)) == len(before) + 1  # no second note
    with session_scope(ctx.engine) as session:
        rows = list_content_sent(session)
    assert [(r.deal_id, r.asset_id, r.journey_stage_id, r.user) for r in rows] == [
        (str(deal_id), asset.id, "consideration", "U0REP")]
    assert rows[0].note_id is not None


def test_setting_off_writes_no_note(base_ctx: SkillContext, skill_server: SandboxServer,
                                    planted_portal: tuple[Portal, Planted]) -> None:
    skill_server.reset_counters()
    outcome = record_sent(_ctx(base_ctx, hubspot_write_notes=False), deal_id=str(planted_portal[1].open_deal_id),
                          crm_stage_id=STAGE, asset_id=_asset(base_ctx).id, user="U0REP", sender_name="Ava")
    assert (outcome.new, outcome.note) == (True, "off")
    assert skill_server.total_requests == 0


def test_missing_scope_means_no_attempt_and_one_line(base_ctx: SkillContext, planted_portal: tuple[Portal, Planted]
                                                     ) -> None:
    portal, planted = planted_portal
    read_only = ["crm.objects.deals.read", "crm.objects.contacts.read", "crm.objects.companies.read"]
    with SandboxServer(portal, token=TOKEN, scopes=read_only, rate_limit=None, search_rate_limit=None) as server:
        ctx = _ctx(base_ctx, hubspot_base_url=server.base_url)
        outcome = record_sent(ctx, deal_id=str(planted.open_deal_id), crm_stage_id=STAGE,
                              asset_id=_asset(base_ctx).id, user="U0REP", sender_name="Ava")
        assert server.counts["create:notes"] == 0 and server.counts["token_info"] == 1
    assert (outcome.new, outcome.note) == (True, "no_scope")
    assert outcome.note_problem is not None and "\n" not in outcome.note_problem
    assert "crm.objects.contacts.write" in outcome.note_problem and "JOURNEYBOT_HUBSPOT_WRITE_NOTES" in outcome.note_problem
    with session_scope(ctx.engine) as session:
        assert len(list_content_sent(session)) == 1  # the record is kept


def test_a_failed_write_keeps_the_record(base_ctx: SkillContext, skill_server: SandboxServer,
                                         planted_portal: tuple[Portal, Planted]) -> None:
    ctx = _ctx(base_ctx, hubspot_max_retries=1)
    ctx.gateway.scopes()  # learnt first: the failures below hit the write itself
    skill_server.faults.fail_next(2, 503)
    try:
        outcome = record_sent(ctx, deal_id=str(planted_portal[1].open_deal_id), crm_stage_id=STAGE,
                              asset_id=_asset(base_ctx).id, user="U0REP", sender_name="Ava")
    finally:
        skill_server.faults.fail_next(0)
    assert (outcome.new, outcome.note) == (True, "failed")
    assert outcome.note_problem is not None and re.search(r"could not be written .*503", outcome.note_problem)
    with session_scope(ctx.engine) as session:
        rows = list_content_sent(session)
    assert len(rows) == 1 and rows[0].note_id is None
