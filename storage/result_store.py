"""Results of skill runs kept for a while, so *Show more* and *Share* page or post the run
the user saw instead of running the skill again (no new files, no second CRM read, no
second question-log row). Rows are pickled results of our own skills, read back only by
this application; they expire after `RESULT_TTL`."""

from __future__ import annotations

import datetime as dt
import logging
import pickle
from typing import Any

from sqlalchemy import Column, LargeBinary, delete
from sqlmodel import Field, Session, SQLModel, col

from storage.timestamps import UtcDateTime, utc_now

log = logging.getLogger(__name__)
RESULT_TTL = dt.timedelta(days=2)


class StoredResult(SQLModel, table=True):
    __tablename__ = "skill_result"

    id: int | None = Field(default=None, primary_key=True)
    skill: str = Field(max_length=40)
    channel_id: str = Field(default="", max_length=32)  # read back only in the conversation it was shown in
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: dt.datetime = Field(default_factory=utc_now, index=True, sa_type=UtcDateTime)


def save_result(session: Session, skill: str, result: Any, *, channel_id: str) -> int:
    row = StoredResult(skill=skill, channel_id=channel_id, payload=pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def fetch_result(session: Session, result_id: int, skill: str, *, channel_id: str) -> Any | None:
    """The stored result, or None when it expired or belongs to another skill or conversation."""
    row = session.get(StoredResult, result_id)
    if row is None or row.skill != skill or row.channel_id != channel_id:
        return None
    if row.created_at < utc_now() - RESULT_TTL:
        return None
    try:
        return pickle.loads(row.payload)  # noqa: S301 - our own rows, written by save_result
    except (AttributeError, ImportError, pickle.UnpicklingError) as exc:  # kept before an upgrade moved its class
        log.info("kept result %s no longer loads (%s): treated as expired", result_id, exc)
        return None


def prune_results(session: Session, older_than: dt.datetime) -> int:
    result = session.execute(delete(StoredResult).where(col(StoredResult.created_at) < older_than))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
