"""The synthetic portal as plain Python data.

Kept separate from the generator so tests and the server share one small vocabulary.
Datetime property values are stored as epoch milliseconds (ints) and formatted only
when served: a 50,000-deal portal then stays well inside a few hundred megabytes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

OBJECT_TYPES: tuple[str, ...] = (
    "deals", "companies", "contacts", "calls", "emails", "meetings", "notes", "tasks",
)
ENGAGEMENT_TYPES: tuple[str, ...] = ("calls", "emails", "meetings", "notes", "tasks")

# HubSpot-defined association type ids (from -> to).
ASSOCIATION_TYPE_IDS: dict[tuple[str, str], int] = {
    ("deals", "contacts"): 3, ("contacts", "deals"): 4,
    ("deals", "companies"): 341, ("companies", "deals"): 342,
    ("contacts", "companies"): 279, ("companies", "contacts"): 280,
    ("companies", "calls"): 181, ("calls", "companies"): 182,
    ("companies", "emails"): 185, ("emails", "companies"): 186,
    ("companies", "meetings"): 187, ("meetings", "companies"): 188,
    ("companies", "notes"): 189, ("notes", "companies"): 190,
    ("companies", "tasks"): 191, ("tasks", "companies"): 192,
    ("deals", "calls"): 205, ("calls", "deals"): 206,
    ("deals", "emails"): 209, ("emails", "deals"): 210,
    ("deals", "meetings"): 211, ("meetings", "deals"): 212,
    ("deals", "notes"): 213, ("notes", "deals"): 214,
    ("deals", "tasks"): 215, ("tasks", "deals"): 216,
}

PropValue = str | int  # int = epoch milliseconds of a datetime property


@dataclass(slots=True)
class CrmObject:
    """One CRM record: id, properties, timestamps, and per-property history (oldest first)."""

    id: int
    properties: dict[str, PropValue]
    created_ms: int
    updated_ms: int
    history: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    archived: bool = False

    def text(self, name: str) -> str | None:
        """The property as HubSpot would serve it (datetimes as ISO strings)."""
        value = self.properties.get(name)
        return None if value is None else format_value(value)


@dataclass(frozen=True, slots=True)
class StageDef:
    """A pipeline stage; `advance`/`median_days`/`sigma` drive the simulation only."""

    id: str
    label: str
    probability: float
    is_closed: bool = False
    is_won: bool = False
    advance: float = 0.0
    median_days: float = 0.0
    sigma: float = 0.5


@dataclass(frozen=True, slots=True)
class PipelineDef:
    id: str
    label: str
    display_order: int
    stages: tuple[StageDef, ...]

    @property
    def open_stages(self) -> tuple[StageDef, ...]:
        return tuple(s for s in self.stages if not s.is_closed)

    @property
    def won_stage(self) -> StageDef:
        return next(s for s in self.stages if s.is_won)

    @property
    def lost_stage(self) -> StageDef:
        return next(s for s in self.stages if s.is_closed and not s.is_won)


SALES_PIPELINE = PipelineDef("default", "Sales Pipeline", 0, (
    StageDef("appointmentscheduled", "Appointment Scheduled", 0.2, advance=0.80, median_days=4, sigma=0.6),
    StageDef("qualifiedtobuy", "Qualified To Buy", 0.4, advance=0.62, median_days=11, sigma=0.7),
    StageDef("presentationscheduled", "Presentation Scheduled", 0.6, advance=0.68, median_days=17, sigma=0.6),
    StageDef("decisionmakerboughtin", "Decision Maker Bought-In", 0.8, advance=0.78, median_days=9, sigma=0.5),
    StageDef("contractsent", "Contract Sent", 0.9, advance=0.86, median_days=6, sigma=0.4),
    StageDef("closedwon", "Closed Won", 1.0, is_closed=True, is_won=True),
    StageDef("closedlost", "Closed Lost", 0.0, is_closed=True),
))

RENEWALS_PIPELINE = PipelineDef("renewals", "Renewals", 1, (
    StageDef("renewalupcoming", "Renewal Upcoming", 0.5, advance=0.92, median_days=21, sigma=0.5),
    StageDef("renewalreview", "Business Review", 0.7, advance=0.84, median_days=14, sigma=0.5),
    StageDef("renewalnegotiation", "Negotiation", 0.85, advance=0.88, median_days=8, sigma=0.4),
    StageDef("renewalwon", "Renewed", 1.0, is_closed=True, is_won=True),
    StageDef("renewallost", "Churned", 0.0, is_closed=True),
))


@dataclass(frozen=True, slots=True)
class PortalSize:
    """How many records of each kind to generate."""

    companies: int = 200
    contacts: int = 1500
    deals: int = 600
    engagements: int = 20_000

    @classmethod
    def for_deals(cls, deals: int) -> PortalSize:
        """A portal scaled around a deal count (benchmarks); engagements are capped."""
        return cls(
            companies=max(10, deals // 3),
            contacts=max(30, deals * 5 // 2),
            deals=deals,
            engagements=min(deals * 33, 50_000),
        )


@dataclass
class Owner:
    id: int
    first_name: str
    last_name: str
    email: str
    user_id: int


@dataclass
class Portal:
    """Everything the sandbox serves. Objects are keyed by id, in ascending id order."""

    seed: int
    now_ms: int
    pipelines: list[PipelineDef]
    owners: list[Owner]
    objects: dict[str, dict[int, CrmObject]]
    associations: dict[tuple[str, str], dict[int, list[int]]]
    # Ground truth for tests: deal id -> [(stage id, entered ms, exited ms or None)].
    deal_paths: dict[int, list[tuple[str, int, int | None]]] = field(default_factory=dict)
    stalled_deal_ids: set[int] = field(default_factory=set)

    def records(self, object_type: str) -> list[CrmObject]:
        """Unarchived records of a type, ascending id."""
        return [o for o in self.objects[object_type].values() if not o.archived]

    def associated(self, from_type: str, to_type: str, from_id: int) -> list[int]:
        return self.associations.get((from_type, to_type), {}).get(from_id, [])


def format_value(value: PropValue) -> str:
    """Serve a stored value the way HubSpot does: datetimes as ISO-8601 UTC with millis."""
    if isinstance(value, int):
        return ms_to_iso(value)
    return value


def ms_to_iso(ms: int) -> str:
    stamp = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def iso_to_ms(text: str) -> int:
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp() * 1000)
