"""An account's next best actions, by the state of each committee persona: multi-thread to
the missing ones, re-engage the known but silent ones (someone is there, nobody talks to
them), send stage content to the engaged ones. What the map says moves the persona at
the account's stage is quoted, so a rep sees why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from knowledge.models import JourneyMap, Persona, Stage
from skills.account_lookup import AssetPick, pick_assets
from skills.buying_committee import PersonaCoverage
from skills.crm.records import Company

VERBS = {"multi_thread": "Multi-thread to", "re_engage": "Re-engage", "send_content": "Send to"}


@dataclass
class NextAction:
    kind: str  # "multi_thread" (a missing role), "re_engage" (a silent one) or "send_content" (an engaged one)
    persona_id: str
    persona_name: str
    why: str
    assets: list[AssetPick] = field(default_factory=list)


def next_actions(journey_map: JourneyMap, company: Company, committee: Sequence[PersonaCoverage],
                 stage: Stage | None, window_days: int) -> list[NextAction]:
    """Multi-thread to each missing role, then re-engage each silent one (in both, those
    this stage's motivations and questions name first), then content for each engaged role
    at the stage."""
    def asks(persona: Persona) -> int:
        return sum(1 for q in stage.questions if persona.id in q.personas) if stage else 0

    def motivation(persona: Persona) -> str | None:
        return persona.stage_motivations.get(stage.id) if stage else None

    def at_stage(persona: Persona) -> str:
        if stage is None:
            return ""
        return (f" At {stage.name}: {motivation(persona) or '; '.join(persona.decision_criteria[:2])}"
                f" ({asks(persona)} of the stage's {len(stage.questions)} buyer questions are theirs.)")

    def ranked(state: str) -> list[tuple[PersonaCoverage, Persona]]:
        found = [(c, journey_map.persona(c.persona_id)) for c in committee if c.state == state]
        return sorted(found, key=lambda pair: (motivation(pair[1]) is None, -asks(pair[1])))

    actions = []
    for _, persona in ranked("missing"):
        opener = pick_assets(journey_map, stage, persona, limit=1) if stage else []
        actions.append(NextAction("multi_thread", persona.id, persona.name,
                                  f"No {persona.name} contact at {company.name} yet." + at_stage(persona), opener))
    for cover, persona in ranked("silent"):
        quiet = (f"silent for {cover.days_silent:g} days" if cover.days_silent is not None
                 else "no activity with them logged")
        why = (f"{', '.join(cover.contacts)} ({persona.name}) known at {company.name} but {quiet} (nothing in the "
               f"last {window_days} days).") + at_stage(persona)
        opener = pick_assets(journey_map, stage, persona, limit=1) if stage else []
        actions.append(NextAction("re_engage", persona.id, persona.name, why, opener))
    if stage is None:
        return actions
    for cover in committee:
        if cover.state == "engaged":
            persona = journey_map.persona(cover.persona_id)
            moves = motivation(persona) or (persona.goals[0] if persona.goals else "")
            engaged = [s.name for s in cover.seats if s.engaged]
            why = f"{', '.join(engaged)} at {stage.name}: {moves}".rstrip(": ")
            actions.append(NextAction("send_content", persona.id, persona.name, why,
                                      pick_assets(journey_map, stage, persona, limit=2)))
    return actions
