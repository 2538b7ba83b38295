"""Responses to churn alerts: who acknowledged or snoozed which account and rule, when,
and until when — so alerting can respect them."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlmodel import Field, Session, SQLModel, col, select

Response = Literal["ack", "snooze"]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class ChurnResponse(SQLModel, table=True):
    __tablename__ = "churn_response"

    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(index=True, max_length=40)
    rule: str = Field(max_length=40)
    response: str = Field(max_length=10)
    user: str = Field(max_length=32)
    at: dt.datetime = Field(default_factory=_now)
    until: dt.datetime | None = None


def record_churn_response(
    session: Session, company_id: str, rule: str, response: Response, *, user: str, until: dt.datetime | None = None
) -> ChurnResponse:
    entry = ChurnResponse(company_id=company_id, rule=rule, response=response, user=user, until=until)
    session.add(entry)
    session.flush()
    return entry


def list_churn_responses(session: Session, company_id: str, rule: str | None = None) -> list[ChurnResponse]:
    query = select(ChurnResponse).where(col(ChurnResponse.company_id) == company_id)
    if rule is not None:
        query = query.where(col(ChurnResponse.rule) == rule)
    return list(session.exec(query.order_by(col(ChurnResponse.at).desc(), col(ChurnResponse.id).desc())))
