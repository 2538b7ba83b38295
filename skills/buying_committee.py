"""Who is who in an account's buying committee: every persona a contact fills (a CFO can
be budget holder and decision maker at once), and, per persona, how recently activity
involved its contacts. A persona counts as engaged only with recent activity involving
one of its own contacts: a company that is busy with others says nothing about them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from knowledge.models import JourneyMap
from skills.account_lookup import Member
from skills.committee import match_personas
from skills.crm.activity import happened
from skills.crm.records import Contact, Engagement

DAY = dt.timedelta(days=1)


@dataclass
class PersonaFit:
    persona_id: str
    persona_name: str
    matched_by: str  # "buying_role" or "job_title"
    evidence: str


@dataclass
class CommitteeMember(Member):
    """A contact with every persona it fills (`personas`, in the map's order); the
    single-persona fields name the first of them, as before."""

    personas: list[PersonaFit] = field(default_factory=list)


def committee_members(journey_map: JourneyMap, contacts: Sequence[Contact]) -> list[CommitteeMember]:
    out = []
    for contact in sorted(contacts, key=lambda c: (c.name.casefold(), c.id)):
        fits = [PersonaFit(m.persona_id, journey_map.persona(m.persona_id).name, m.matched_by, m.evidence)
                for m in match_personas(journey_map, contact)]
        first = fits[0] if fits else None
        out.append(CommitteeMember(contact_id=contact.id, name=contact.name, job_title=contact.job_title,
                                   persona_id=first.persona_id if first else None,
                                   persona_name=first.persona_name if first else None,
                                   matched_by=first.matched_by if first else None,
                                   evidence=first.evidence if first else None, personas=fits))
    return out


def fills(member: CommitteeMember, persona_id: str) -> bool:
    return any(f.persona_id == persona_id for f in member.personas)


@dataclass
class Seat:
    """One contact in one persona's seat and how recently activity involved them."""

    contact_id: str
    name: str
    last_engagement_at: str | None
    days_since_last: float | None
    recent_engagements: int  # activities involving them within the engagement window
    engaged: bool
    also: list[str]  # the other personas this contact fills


@dataclass
class PersonaCoverage:
    persona_id: str
    persona_name: str
    role: str
    engaged: bool  # a contact of this persona was involved in activity within the window
    contacts: list[str]  # names of every known contact of the persona
    state: str = "missing"  # "engaged", "silent" (known, no recent activity with them) or "missing"
    days_silent: float | None = None  # silent: days since the last activity with any of its contacts
    seats: list[Seat] = field(default_factory=list)

    def summary(self) -> str:
        """Who sits in the seat, how recently, which other personas they fill (one line)."""
        if self.state == "missing":
            return "MISSING"
        seats = []
        for seat in self.seats:
            when = f"{seat.days_since_last:g} days ago" if seat.days_since_last is not None else "no activity"
            also = f", also {', '.join(seat.also)}" if seat.also else ""
            seats.append(f"{seat.name} ({when}{also})")
        quiet = "" if self.state == "engaged" else (
            f"known, silent for {self.days_silent:g} days: " if self.days_silent is not None else "known, silent: ")
        return quiet + ", ".join(seats)


def committee_coverage(journey_map: JourneyMap, people: Sequence[CommitteeMember],
                       engagements: Sequence[Engagement], now: dt.datetime, window_days: int) -> list[PersonaCoverage]:
    """Each persona of the map with its contacts and their recency (pure)."""
    since = now - window_days * DAY
    last: dict[str, dt.datetime] = {}
    recent: dict[str, int] = {}
    for e in engagements:
        if not happened(e, now) or e.timestamp is None:
            continue
        for contact_id in e.contact_ids:
            if contact_id not in last or e.timestamp > last[contact_id]:
                last[contact_id] = e.timestamp
            recent[contact_id] = recent.get(contact_id, 0) + (e.timestamp >= since)
    out = []
    for persona in journey_map.personas:
        seats = []
        for m in (m for m in people if fills(m, persona.id)):
            seen = last.get(m.contact_id)
            count = recent.get(m.contact_id, 0)
            seats.append(Seat(m.contact_id, m.name, seen.isoformat() if seen else None,
                              round((now - seen) / DAY, 1) if seen else None, count, count > 0,
                              [f.persona_id for f in m.personas if f.persona_id != persona.id]))
        engaged = any(s.engaged for s in seats)
        state = "engaged" if engaged else "silent" if seats else "missing"
        latest = max((last[s.contact_id] for s in seats if s.contact_id in last), default=None)
        silent_for = round((now - latest) / DAY, 1) if state == "silent" and latest else None
        out.append(PersonaCoverage(persona.id, persona.name, persona.role.value, engaged, [s.name for s in seats],
                                   state, silent_for, seats))
    return out
