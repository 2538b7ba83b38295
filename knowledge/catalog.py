"""Looking things up in the map by what a person typed: stages and personas by id, name
or alias (typos forgiven, with a suggestion when nothing fits), and content by cell."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TypeVar

from rapidfuzz import fuzz, process

from knowledge.detection import detector_for
from knowledge.errors import InputError
from knowledge.models import ContentAsset, JourneyMap, Persona, Stage

T = TypeVar("T", Stage, Persona)


class UnknownReference(InputError, LookupError):
    """A stage or persona the map does not have; the message lists what it does have."""


def resolve_stage(journey_map: JourneyMap, text: str) -> Stage:
    detected = detector_for(journey_map).detect(text).stage_id
    return _resolve("stage", journey_map.stages, text, detected)


def resolve_persona(journey_map: JourneyMap, text: str) -> Persona:
    detected = detector_for(journey_map).detect(text).persona_id
    return _resolve("persona", journey_map.personas, text, detected)


def _resolve(kind: str, items: Sequence[T], text: str, detected: str | None) -> T:
    """Exact id, name or alias first; then what detection found (typos, labels)."""
    key = text.strip().lower()
    for candidate in items:
        if key in _names(candidate):
            return candidate
    for item in items:
        if item.id == detected:
            return item
    raise UnknownReference(_unknown_message(kind, text, [i.name for i in items]))


def _names(item: Stage | Persona) -> set[str]:
    return {item.id, item.name.lower(), *[alias.lower() for alias in item.aliases]}


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


def argument_values(journey_map: JourneyMap) -> dict[str, list[tuple[str, str]]]:
    """The values a `stage` or `persona` argument takes for this map, each with what it
    means (a stage's first sentence, a persona's name and role): what a tool-calling LLM
    needs to pick one a message implies without naming it."""
    stages = [(s.id, f"{s.name}: {_first_sentence(s.definition)}") for s in journey_map.stages]
    personas = [(p.id, f"{p.name} ({p.role.value.replace('_', ' ')})") for p in journey_map.personas]
    return {"stage": stages, "persona": personas}


def _first_sentence(text: str, limit: int = 160) -> str:
    sentence = text.split(". ", 1)[0].rstrip(".")
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"
