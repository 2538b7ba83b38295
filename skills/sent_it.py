""""Sent it": a rep says an asset went out on a deal. The click is recorded locally first
(one row per deal, asset and stage entry: nothing is lost if HubSpot fails) and, when
JOURNEYBOT_HUBSPOT_WRITE_NOTES is on and the token has the scope, logged as a note on
the HubSpot deal. Slack-free: the bot renders the returned `SentOutcome`."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass
from html import escape
from typing import Any, Literal

from skills.context import SkillContext
from skills.crm.errors import CrmError
from skills.stage_map import journey_stage_for
from storage.content_sent import record_content_sent, set_note_id
from storage.engine import session_scope

log = logging.getLogger(__name__)

NoteState = Literal["off", "written", "already", "no_scope", "failed"]


@dataclass(frozen=True)
class SentOutcome:
    """What a click did. `sent_by` is the Slack user id of whoever recorded it first;
    `note_problem` is one line for the clicker when the HubSpot note was not written."""

    deal_id: str
    asset_id: str
    asset_title: str
    sent_by: str
    new: bool
    note: NoteState
    note_problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def note_body(asset_title: str, asset_url: str | None, sender_name: str, stage_name: str | None) -> str:
    """What the deal's timeline shows: the asset, its link and who sent it (a Slack name)."""
    where = f" at the {_text(stage_name)} stage" if stage_name else ""
    link = f' (<a href="{escape(asset_url)}">{_text(asset_url)}</a>)' if asset_url else ""
    return (f"<p>Content sent{where}: <strong>{_text(asset_title)}</strong>{link}, sent by {_text(sender_name)} "
            "(via journeybot).</p>")


def _text(value: str) -> str:
    return escape(value, quote=False)


def record_sent(ctx: SkillContext, *, deal_id: str, crm_stage_id: str, asset_id: str, user: str, sender_name: str,
                stage_entered_at: dt.datetime | None = None) -> SentOutcome:
    """Record the send, then (new sends only) try the HubSpot note as the settings allow."""
    journey_map = ctx.journey_map
    stage = journey_stage_for(journey_map, crm_stage_id)
    asset = next((a for a in journey_map.assets if a.id == asset_id), None)
    title = asset.title if asset else asset_id
    with session_scope(ctx.engine) as session:
        row, new = record_content_sent(session, deal_id=deal_id, crm_stage_id=crm_stage_id,
                                       journey_stage_id=stage.id if stage else None, asset_id=asset_id, user=user,
                                       stage_entered_at=stage_entered_at, at=ctx.now)
        row_id, first_user, has_note = row.id, row.user, row.note_id is not None
    outcome = SentOutcome(deal_id, asset_id, title, first_user, new, "off")
    if not ctx.settings.hubspot_write_notes or not ctx.crm_configured:
        return outcome
    if not new:
        return SentOutcome(deal_id, asset_id, title, first_user, False, "already" if has_note else "off")
    body = note_body(title, str(asset.url) if asset else None, sender_name, stage.name if stage else None)
    try:
        missing = ctx.gateway.missing_note_scopes()
        if missing:
            return SentOutcome(deal_id, asset_id, title, first_user, True, "no_scope",
                               f"Recorded, but no HubSpot note: the token lacks {', '.join(missing)} "
                               "(JOURNEYBOT_HUBSPOT_WRITE_NOTES is on).")
        note_id = ctx.gateway.add_deal_note(deal_id, body, ctx.now)
    except CrmError as exc:
        log.warning("HubSpot note for deal %s, asset %s failed: %s", deal_id, asset_id, exc)
        return SentOutcome(deal_id, asset_id, title, first_user, True, "failed",
                           "Recorded here, but the HubSpot note could not be written (HubSpot said: "
                           f"{str(exc).splitlines()[0][:160]}).")
    assert row_id is not None
    with session_scope(ctx.engine) as session:
        set_note_id(session, row_id, note_id)
    return SentOutcome(deal_id, asset_id, title, first_user, True, "written")
