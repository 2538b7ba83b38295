"""Responses to churn alerts: who acknowledged or snoozed which account and rule, when,
and until when — so alerting can respect them; and the alerts sent (account, rule,
severity, scope, when) so the same risk is not posted again within the cooldown
(skills.churn_alerts holds that logic)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlmodel import Field, Session, SQLModel, col, select

from storage.timestamps import UtcDateTime, utc_now

Response = Literal["ack", "snooze"]


class ChurnResponse(SQLModel, table=True):
    __tablename__ = "churn_response"

    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(index=True, max_length=40)
    rule: str = Field(max_length=40)
    response: str = Field(max_length=10)
    user: str = Field(max_length=32)
    at: dt.datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    until: dt.datetime | None = Field(default=None, sa_type=UtcDateTime)


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


class AlertSent(SQLModel, table=True):
    """One churn alert posted: `scope` separates audiences (e.g. a channel or an owner's
    alerts) so one account's risk can reach each of them once; "" = the default audience."""

    __tablename__ = "churn_alert_sent"

    id: int | None = Field(default=None, primary_key=True)
    company_id: str = Field(index=True, max_length=40)
    rule: str = Field(max_length=40)
    severity: str = Field(max_length=10)
    scope: str = Field(default="", max_length=64)
    sent_at: dt.datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


def record_alert_sent(session: Session, company_id: str, rule: str, severity: str, *, scope: str = "",
                      at: dt.datetime | None = None) -> AlertSent:
    entry = AlertSent(company_id=company_id, rule=rule, severity=severity, scope=scope, sent_at=at or utc_now())
    session.add(entry)
    session.flush()
    return entry


def last_alert_sent(session: Session, company_id: str, rule: str, *, scope: str = "") -> AlertSent | None:
    """The latest alert posted for this account and rule in this scope, if any."""
    query = (select(AlertSent).where(col(AlertSent.company_id) == company_id, col(AlertSent.rule) == rule,
                                     col(AlertSent.scope) == scope)
             .order_by(col(AlertSent.sent_at).desc(), col(AlertSent.id).desc()).limit(1))
    return session.exec(query).first()
