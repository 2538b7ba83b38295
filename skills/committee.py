"""Which persona of the map a CRM contact is: by buying role first, else by job title.

The result says which rule matched, so readiness can show how sure it is.
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


def match_persona(journey_map: JourneyMap, contact: Contact) -> PersonaMatch | None:
    roles = {r.strip().upper() for r in contact.buying_roles if r.strip()}
    for persona in journey_map.personas:
        hit = roles.intersection(r.upper() for r in persona.hubspot_buying_roles)
        if hit:
            return PersonaMatch(contact.id, persona.id, "buying_role", sorted(hit)[0])
    title = (contact.job_title or "").strip()
    if title:
        for persona in journey_map.personas:
            for pattern in _patterns(persona):
                if pattern.search(title):
                    return PersonaMatch(contact.id, persona.id, "job_title", title)
    return None


def _patterns(persona: Persona) -> tuple[re.Pattern[str], ...]:
    return _compiled(tuple(persona.job_title_patterns))


@lru_cache(maxsize=256)
def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)
