"""Assets reps said they sent ("Sent it"): which deal, at which CRM and journey stage,
which asset, who (a Slack user id, never an email) and when. One row per (deal, asset,
stage entry), so a second click, or a click on the same asset in another message,
does not count twice; the content influence report reads these rows."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from storage.engine import insert_once
from storage.timestamps import UtcDateTime, utc_now


class ContentSent(SQLModel, table=True):
    """`entry` names the stage entry: the CRM stage id and, when known, the epoch ms the
    deal entered it ("contractsent@1717000000000"); a deal that leaves and re-enters a
    stage is a new entry."""

    __tablename__ = "content_sent"
    __table_args__ = (UniqueConstraint("deal_id", "asset_id", "entry", name="uq_content_sent_entry"),)

    id: int | None = Field(default=None, primary_key=True)
    deal_id: str = Field(index=True, max_length=40)
    crm_stage_id: str = Field(max_length=100)
    journey_stage_id: str | None = Field(default=None, max_length=100)
    stage_entered_at: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)
    entry: str = Field(max_length=140)
    asset_id: str = Field(index=True, max_length=100)
    user: str = Field(max_length=32)
    sent_at: dt.datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    note_id: str | None = Field(default=None, max_length=40)  # the HubSpot note logged for it, if any


def entry_key(crm_stage_id: str, entered_at: dt.datetime | None) -> str:
    return f"{crm_stage_id}@{int(entered_at.timestamp() * 1000) if entered_at else ''}"


def record_content_sent(session: Session, *, deal_id: str, crm_stage_id: str, journey_stage_id: str | None,
                        asset_id: str, user: str, stage_entered_at: dt.datetime | None = None,
                        at: dt.datetime | None = None) -> tuple[ContentSent, bool]:
    """(the row, True when this click created it). A row already there for the same
    deal, asset and stage entry is returned unchanged: whoever clicked first keeps it."""
    key = entry_key(crm_stage_id, stage_entered_at)
    found = _find(session, deal_id, asset_id, key)
    if found is not None:
        return found, False
    entry = ContentSent(deal_id=deal_id, crm_stage_id=crm_stage_id, journey_stage_id=journey_stage_id,
                        stage_entered_at=stage_entered_at, entry=key, asset_id=asset_id, user=user,
                        sent_at=at or utc_now())
    if insert_once(session, entry):  # two workers clicking at once: the unique key decides
        return entry, True
    winner = _find(session, deal_id, asset_id, key)
    if winner is None:
        raise RuntimeError(f"'Sent it' for asset {asset_id} on deal {deal_id} was refused, and no row holds it")
    return winner, False


def _find(session: Session, deal_id: str, asset_id: str, key: str) -> ContentSent | None:
    query = select(ContentSent).where(col(ContentSent.deal_id) == deal_id, col(ContentSent.asset_id) == asset_id,
                                      col(ContentSent.entry) == key)
    return session.exec(query).first()


def set_note_id(session: Session, sent_id: int, note_id: str) -> None:
    entry = session.get(ContentSent, sent_id)
    if entry is not None:
        entry.note_id = note_id
        session.add(entry)
        session.flush()


def list_content_sent(session: Session, *, since: dt.datetime | None = None) -> list[ContentSent]:
    """Every recorded send (from `since` on), oldest first."""
    query = select(ContentSent)
    if since is not None:
        query = query.where(col(ContentSent.sent_at) >= since)
    return list(session.exec(query.order_by(col(ContentSent.sent_at), col(ContentSent.id))))
