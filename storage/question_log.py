"""The question log: every question asked, what the bot detected and answered.

It feeds the gap audit (questions the map could not answer) and feedback.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Column
from sqlmodel import Field, Session, SQLModel, col, select

from storage.timestamps import UtcDateTime, utc_now


class QuestionLogEntry(SQLModel, table=True):
    __tablename__ = "question_log"

    id: int | None = Field(default=None, primary_key=True)
    asked_at: dt.datetime = Field(default_factory=utc_now, index=True, sa_type=UtcDateTime)
    question: str
    stage_id: str | None = Field(default=None, index=True)
    persona_id: str | None = Field(default=None)
    top_sources: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    confidence: float = 0.0
    answered: bool = True
    latency_ms: float = 0.0
    channel: str | None = Field(default=None, index=True)
    user: str | None = Field(default=None)
    source: str | None = Field(default=None, max_length=20, description="where it was asked: slack, cli, ...")
    feedback: int | None = Field(default=None, description="+1 / -1 from the feedback buttons")


def record_question(
    session: Session,
    *,
    question: str,
    stage_id: str | None,
    persona_id: str | None,
    top_sources: list[str],
    confidence: float,
    answered: bool,
    latency_ms: float,
    channel: str | None = None,
    user: str | None = None,
    source: str | None = None,
) -> QuestionLogEntry:
    entry = QuestionLogEntry(
        question=question,
        stage_id=stage_id,
        persona_id=persona_id,
        top_sources=top_sources,
        confidence=confidence,
        answered=answered,
        latency_ms=latency_ms,
        channel=channel,
        user=user,
        source=source,
    )
    session.add(entry)
    session.flush()
    return entry


def list_questions(
    session: Session,
    *,
    unanswered_only: bool = False,
    since: dt.datetime | None = None,
    user: str | None = None,
    limit: int = 100,
) -> list[QuestionLogEntry]:
    query = select(QuestionLogEntry).order_by(col(QuestionLogEntry.asked_at).desc(), col(QuestionLogEntry.id).desc())
    if unanswered_only:
        query = query.where(col(QuestionLogEntry.answered).is_(False))
    if since is not None:
        query = query.where(col(QuestionLogEntry.asked_at) >= since)
    if user is not None:
        query = query.where(col(QuestionLogEntry.user) == user)
    return list(session.exec(query.limit(limit)))


def fetch_question(session: Session, entry_id: int) -> QuestionLogEntry | None:
    return session.get(QuestionLogEntry, entry_id)


def set_feedback(session: Session, entry_id: int, value: int) -> QuestionLogEntry | None:
    entry = session.get(QuestionLogEntry, entry_id)
    if entry is not None:
        entry.feedback = 1 if value > 0 else -1
        session.add(entry)
        session.flush()
    return entry
