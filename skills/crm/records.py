"""Typed CRM records the gateway returns; built from raw property dicts so a live fetch
and the local snapshot give identical objects.

Contacts deliberately carry no email or phone: personal contact data stays inside
the gateway (see `CrmGateway.contact_emails` for the explicit, narrow read).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Props = Mapping[str, str | None]
History = Mapping[str, list[tuple[str, str]]]  # property -> [(value, ISO timestamp)], any order


def parse_time(value: str | None) -> dt.datetime | None:
    """HubSpot datetimes: ISO-8601 (with Z) or epoch milliseconds; always UTC-aware."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return dt.datetime.fromtimestamp(int(text) / 1000, tz=dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def parse_date(value: str | None) -> dt.date | None:
    """Date properties come as YYYY-MM-DD (or, from some portals, a datetime)."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        stamp = parse_time(value)
        return stamp.date() if stamp else None


def parse_float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def parse_bool(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


@dataclass(frozen=True, slots=True)
class PipelineStage:
    id: str
    label: str
    display_order: int
    probability: float | None
    is_closed: bool
    is_won: bool


@dataclass(frozen=True, slots=True)
class Pipeline:
    id: str
    label: str
    display_order: int
    stages: tuple[PipelineStage, ...]

    def stage(self, stage_id: str) -> PipelineStage | None:
        return next((s for s in self.stages if s.id == stage_id), None)


@dataclass(frozen=True, slots=True)
class StageTime:
    """When a deal entered and left one stage (exited None = still there, or never left)."""

    stage_id: str
    entered_at: dt.datetime
    exited_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Deal:
    id: str
    name: str
    amount: float | None
    pipeline_id: str
    stage_id: str
    owner_id: str | None
    created_at: dt.datetime | None
    close_date: dt.datetime | None
    is_closed: bool
    is_won: bool
    last_modified: dt.datetime | None
    stage_times: tuple[StageTime, ...]
    stage_source: str  # "v2" (hs_v2_date_* properties), "history" (dealstage history) or "none"

    def entered(self, stage_id: str) -> dt.datetime | None:
        return next((s.entered_at for s in self.stage_times if s.stage_id == stage_id), None)

    @property
    def entered_current_stage(self) -> dt.datetime | None:
        return self.entered(self.stage_id)

    def days_in_current_stage(self, now: dt.datetime) -> float | None:
        entered = self.entered_current_stage
        return None if entered is None else (now - entered).total_seconds() / 86_400


@dataclass(frozen=True, slots=True)
class CustomerSuccess:
    """Post-purchase signals; the property names are settings (HubSpot has no standard ones)."""

    onboarding_start: dt.date | None = None
    first_value: dt.date | None = None
    business_review: dt.date | None = None
    renewal: dt.date | None = None
    nps: float | None = None
    health_score: float | None = None
    open_escalations: int | None = None


@dataclass(frozen=True, slots=True)
class Company:
    id: str
    name: str
    domain: str | None
    lifecycle_stage: str | None
    owner_id: str | None
    created_at: dt.datetime | None
    last_modified: dt.datetime | None
    success: CustomerSuccess


@dataclass(frozen=True, slots=True)
class Contact:
    id: str
    first_name: str | None
    last_name: str | None
    job_title: str | None
    buying_roles: tuple[str, ...]
    lifecycle_stage: str | None
    owner_id: str | None
    company_id: str | None
    last_modified: dt.datetime | None

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or f"Contact {self.id}"


@dataclass(frozen=True, slots=True)
class Owner:
    id: str
    first_name: str | None
    last_name: str | None
    email: str | None

    @property
    def name(self) -> str:
        # Never the email: a name is shown to people, the email only finds the owner's Slack user.
        return " ".join(p for p in (self.first_name, self.last_name) if p) or f"Owner {self.id}"


def owner_names(owners: Iterable[Owner]) -> dict[str, str]:
    """Owner id -> display name (never the email) for reports that name owners."""
    return {o.id: o.name for o in owners}


@dataclass(frozen=True, slots=True)
class Engagement:
    id: str
    type: str  # calls, emails, meetings, notes, tasks
    timestamp: dt.datetime | None  # hs_timestamp (a task's due date)
    owner_id: str | None
    title: str | None
    status: str | None
    company_id: str  # the account it was read for
    contact_ids: tuple[str, ...] = ()  # the account's contacts it involved (from their associations)


@dataclass(frozen=True, slots=True)
class CompanyAssociations:
    company_id: str
    contact_ids: tuple[str, ...]
    deal_ids: tuple[str, ...]


def stage_times_from_v2(props: Props, stage_ids: tuple[str, ...]) -> tuple[StageTime, ...]:
    out = []
    for stage_id in stage_ids:
        entered = parse_time(props.get(f"hs_v2_date_entered_{stage_id}"))
        if entered is not None:
            out.append(StageTime(stage_id, entered, parse_time(props.get(f"hs_v2_date_exited_{stage_id}"))))
    return tuple(sorted(out, key=lambda s: s.entered_at))


def stage_times_from_history(changes: list[tuple[str, str]]) -> tuple[StageTime, ...]:
    """dealstage history -> per-stage times; a stage entered twice keeps its latest entry."""
    timed = [(when, value) for value, ts in changes if (when := parse_time(ts)) is not None]
    ordered = sorted(timed, key=lambda c: c[0])
    latest: dict[str, StageTime] = {}
    for index, (entered, stage_id) in enumerate(ordered):
        exited = ordered[index + 1][0] if index + 1 < len(ordered) else None
        latest[stage_id] = StageTime(stage_id, entered, exited)
    return tuple(sorted(latest.values(), key=lambda s: s.entered_at))
