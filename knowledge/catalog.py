"""Looking things up in the map by what a person typed: stages and personas by id, name
or alias (typos forgiven, with a suggestion when nothing fits), and content by cell."""

from __future__ import annotations

import datetime as dt

from rapidfuzz import fuzz, process

from knowledge.detection import Detector
from knowledge.models import ContentAsset, JourneyMap, Persona, Stage


class UnknownReference(LookupError):
    """A stage or persona the map does not have; the message lists what it does have."""


def resolve_stage(journey_map: JourneyMap, text: str) -> Stage:
    key = text.strip().lower()
    for stage in journey_map.stages:
        if key in {stage.id, stage.name.lower(), *(a.lower() for a in stage.aliases)}:
            return stage
    detected = Detector(journey_map).detect(text).stage_id
    if detected:
        return journey_map.stage(detected)
    names = [s.name for s in journey_map.stages]
    raise UnknownReference(_unknown_message("stage", text, names))


def resolve_persona(journey_map: JourneyMap, text: str) -> Persona:
    key = text.strip().lower()
    for persona in journey_map.personas:
        if key in {persona.id, persona.name.lower(), *(a.lower() for a in persona.aliases)}:
            return persona
    detected = Detector(journey_map).detect(text).persona_id
    if detected:
        return journey_map.persona(detected)
    names = [p.name for p in journey_map.personas]
    raise UnknownReference(_unknown_message("persona", text, names))


def _unknown_message(kind: str, text: str, names: list[str]) -> str:
    message = f"unknown {kind} {text!r}"
    best = process.extractOne(text, names, scorer=fuzz.WRatio, score_cutoff=60)
    if best:
        message += f"; did you mean {best[0]!r}?"
    return f"{message} Known {kind}s: {', '.join(names)}."


def content_for(
    journey_map: JourneyMap, stage: Stage, persona: Persona | None = None, *, today: dt.date | None = None
) -> list[ContentAsset]:
    """Assets of a stage (and persona: theirs plus those for everyone), the ones that
    answer the most of the stage's questions and were reviewed most recently first."""
    stage_questions = {q.id for q in stage.questions}
    fits = [
        a
        for a in journey_map.assets
        if stage.id in a.stages and (persona is None or not a.personas or persona.id in a.personas)
    ]
    return sorted(
        fits,
        key=lambda a: (
            -(persona is not None and persona.id in a.personas),
            -len(stage_questions.intersection(a.answers)),
            -a.last_reviewed.toordinal(),
            a.id,
        ),
    )
