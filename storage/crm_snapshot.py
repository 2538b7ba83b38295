"""Local snapshot of CRM objects, so a repeat sync fetches only what changed.

Objects are stored as the raw HubSpot property strings (JSON), not as domain records:
the gateway rebuilds records from them exactly as from a live fetch. `scope_key`
fingerprints the property list requested; when it changes the snapshot is rebuilt.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, Text, delete, func, insert, select
from sqlmodel import Field, Session, SQLModel, col

from storage.timestamps import UtcDateTime, utc_now


class CrmSnapshotObject(SQLModel, table=True):
    """One cached object: its properties (and stage history, when it was needed)."""

    __tablename__ = "crm_snapshot_object"

    object_type: str = Field(primary_key=True, max_length=32)
    object_id: str = Field(primary_key=True, max_length=40)
    properties_json: str = Field(sa_column=Column(Text, nullable=False))
    history_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    last_modified_ms: int = Field(default=0, index=True, sa_type=BigInteger)  # epoch ms overflow int32


class CrmSnapshotState(SQLModel, table=True):
    """Per object type: when it was last synced (UTC) and the newest modification seen."""

    __tablename__ = "crm_snapshot_state"

    object_type: str = Field(primary_key=True, max_length=32)
    scope_key: str = Field(max_length=64)
    full_sync_at: dt.datetime = Field(sa_type=UtcDateTime)
    synced_at: dt.datetime = Field(sa_type=UtcDateTime)
    high_watermark_ms: int = Field(default=0, sa_type=BigInteger)
    object_count: int = 0


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    """A cached object as plain data (what the verbs take and return)."""

    object_id: str
    properties: dict[str, str | None]
    history: dict[str, list[tuple[str, str]]] | None
    last_modified_ms: int


def fetch_snapshot_state(session: Session, object_type: str) -> CrmSnapshotState | None:
    return session.get(CrmSnapshotState, object_type)


def fetch_snapshot(session: Session, object_type: str, ids: Sequence[str] | None = None) -> list[SnapshotRow]:
    """Every cached object of the type (or only those of `ids`, when given), in id order."""
    query = select(col(CrmSnapshotObject.object_id), col(CrmSnapshotObject.properties_json),
                   col(CrmSnapshotObject.history_json), col(CrmSnapshotObject.last_modified_ms)
                   ).where(col(CrmSnapshotObject.object_type) == object_type)
    if ids is None:
        rows = list(session.execute(query).all())
    else:
        wanted = list(dict.fromkeys(ids))
        rows = [row for start in range(0, len(wanted), 500) for row in session.execute(
            query.where(col(CrmSnapshotObject.object_id).in_(wanted[start:start + 500]))).all()]
    out = [
        SnapshotRow(oid, json.loads(props), _load_history(hist), modified)
        for oid, props, hist, modified in rows
    ]
    out.sort(key=lambda r: (len(r.object_id), r.object_id))
    return out


def fetch_snapshot_modified_since(session: Session, object_type: str, since_ms: int) -> list[SnapshotRow]:
    """The cached objects modified after `since_ms` (indexed: costs what changed, not the
    whole list), oldest modification first."""
    query = (select(col(CrmSnapshotObject.object_id), col(CrmSnapshotObject.properties_json),
                    col(CrmSnapshotObject.history_json), col(CrmSnapshotObject.last_modified_ms))
             .where(col(CrmSnapshotObject.object_type) == object_type,
                    col(CrmSnapshotObject.last_modified_ms) > since_ms)
             .order_by(col(CrmSnapshotObject.last_modified_ms), col(CrmSnapshotObject.object_id)))
    return [SnapshotRow(oid, json.loads(props), _load_history(hist), modified)
            for oid, props, hist, modified in session.execute(query).all()]


def snapshot_size(session: Session, object_type: str) -> int:
    """How many objects of the type are cached (without loading them)."""
    query = select(func.count()).select_from(CrmSnapshotObject).where(col(CrmSnapshotObject.object_type) == object_type)
    return int(session.execute(query).scalar_one())


def _load_history(raw: str | None) -> dict[str, list[tuple[str, str]]] | None:
    if raw is None:
        return None
    return {name: [(v, t) for v, t in changes] for name, changes in json.loads(raw).items()}


def _values(object_type: str, rows: Iterable[SnapshotRow]) -> list[dict[str, object]]:
    return [
        {"object_type": object_type, "object_id": r.object_id, "properties_json": json.dumps(r.properties),
         "history_json": None if r.history is None else json.dumps(r.history), "last_modified_ms": r.last_modified_ms}
        for r in rows
    ]


def save_snapshot_objects(session: Session, object_type: str, rows: Sequence[SnapshotRow]) -> int:
    """Insert or replace these objects (an incremental sync's changes). Returns the count."""
    ids = [r.object_id for r in rows]
    for start in range(0, len(ids), 500):
        session.execute(delete(CrmSnapshotObject).where(
            col(CrmSnapshotObject.object_type) == object_type,
            col(CrmSnapshotObject.object_id).in_(ids[start:start + 500]),
        ))
    values = _values(object_type, rows)
    for start in range(0, len(values), 2000):
        session.execute(insert(CrmSnapshotObject), values[start:start + 2000])
    return len(values)


def replace_snapshot(session: Session, object_type: str, rows: Sequence[SnapshotRow]) -> int:
    """Drop every cached object of the type and store these (a full sync)."""
    session.execute(delete(CrmSnapshotObject).where(col(CrmSnapshotObject.object_type) == object_type))
    values = _values(object_type, rows)
    for start in range(0, len(values), 2000):
        session.execute(insert(CrmSnapshotObject), values[start:start + 2000])
    return len(values)


def save_snapshot_state(session: Session, object_type: str, *, scope_key: str, high_watermark_ms: int,
                        object_count: int, full: bool, now: dt.datetime | None = None) -> CrmSnapshotState:
    now = now or utc_now()
    state = session.get(CrmSnapshotState, object_type)
    if state is None:
        state = CrmSnapshotState(object_type=object_type, scope_key=scope_key, full_sync_at=now, synced_at=now)
    state.scope_key = scope_key
    state.synced_at = now
    if full:
        state.full_sync_at = now
    state.high_watermark_ms = high_watermark_ms
    state.object_count = object_count
    session.add(state)
    return state


def clear_snapshot(session: Session, object_type: str | None = None) -> None:
    """Forget the cache (one type, or all), forcing the next sync to be a full one."""
    objects = delete(CrmSnapshotObject)
    states = delete(CrmSnapshotState)
    if object_type is not None:
        objects = objects.where(col(CrmSnapshotObject.object_type) == object_type)
        states = states.where(col(CrmSnapshotState.object_type) == object_type)
    session.execute(objects)
    session.execute(states)
