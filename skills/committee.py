"""Which personas of the map a CRM contact fills: by buying role first, else by job title.

Each match says which rule matched, so readiness can show how sure it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from knowledge.models import JourneyMap, Persona
from skills.crm.records import Contact

MatchedBy = Literal["buying_role", "job_title"]


@dataclass(frozen=True)
class PersonaMatch:
    contact_id: str
    persona_id: str
    matched_by: MatchedBy
    evidence: str


def match_personas(journey_map: JourneyMap, contact: Contact) -> list[PersonaMatch]:
    """Every persona the contact fills, in the map's order: all those its buying roles name
    (a CFO may be budget holder and decision maker); only without a matching role, those
    its job title fits."""
    roles = {r.strip().upper() for r in contact.buying_roles if r.strip()}
    found = []
    for persona in journey_map.personas:
        hit = roles.intersection(r.upper() for r in persona.hubspot_buying_roles)
        if hit:
            found.append(PersonaMatch(contact.id, persona.id, "buying_role", sorted(hit)[0]))
    if found:
        return found
    title = (contact.job_title or "").strip()
    if title:
        for persona in journey_map.personas:
            if any(pattern.search(title) for pattern in _patterns(persona)):
                found.append(PersonaMatch(contact.id, persona.id, "job_title", title))
    return found


def match_persona(journey_map: JourneyMap, contact: Contact) -> PersonaMatch | None:
    """The first persona the contact fills (see match_personas), or None."""
    found = match_personas(journey_map, contact)
    return found[0] if found else None


def _patterns(persona: Persona) -> tuple[re.Pattern[str], ...]:
    return _compiled(tuple(persona.job_title_patterns))


@lru_cache(maxsize=256)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)
