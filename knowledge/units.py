"""The map cut into indexable units: one per stage, buyer question, asset, persona and
touchpoint, each with filterable metadata and a content hash for incremental indexing."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Literal

from knowledge.models import JourneyMap

UnitKind = Literal["stage", "question", "asset", "persona", "touchpoint", "example"]
Metadata = dict[str, str | int | float | bool]


@dataclass(frozen=True)
class Unit:
    id: str
    kind: UnitKind
    ref_id: str
    title: str
    text: str
    stage_ids: tuple[str, ...]
    persona_ids: tuple[str, ...]
    url: str = ""
    question_ids: tuple[str, ...] = field(default=())
    dense_text: str = ""

    @property
    def embed_text(self) -> str:
        """What the embedding model reads: short, because CPU embedding costs per token
        (about 4,500 tokens/s on two cores); the full `text` feeds BM25 and the LLM."""
        return self.dense_text or self.text

    @property
    def content_hash(self) -> str:
        payload = json.dumps(
            [self.kind, self.title, self.text, self.embed_text, self.stage_ids, self.persona_ids, self.url, self.question_ids]
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:32]

    def metadata(self) -> Metadata:
        """Flat metadata Chroma can filter on: one boolean key per stage and persona."""
        meta: Metadata = {
            "kind": self.kind,
            "ref_id": self.ref_id,
            "title": self.title,
            "url": self.url,
            "stages": ",".join(self.stage_ids),
            "personas": ",".join(self.persona_ids),
            "questions": ",".join(self.question_ids),
            "hash": self.content_hash,
            "persona_all": not self.persona_ids,
        }
        for stage_id in self.stage_ids:
            meta[f"stage_{stage_id}"] = True
        for persona_id in self.persona_ids:
            meta[f"persona_{persona_id}"] = True
        return meta


def build_units(journey_map: JourneyMap) -> list[Unit]:
    stage_names = {s.id: s.name for s in journey_map.stages}
    persona_names = {p.id: p.name for p in journey_map.personas}
    question_text = {q.id: q.text for _, q in journey_map.questions()}
    units: list[Unit] = []
    for stage in journey_map.stages:
        text = (
            f"{stage.name} stage ({', '.join(stage.aliases)}). {stage.definition} "
            f"Buyer goals: {'; '.join(stage.goals)}. Information needed: {'; '.join(stage.information_needed)}. "
            f"Obstacles: {'; '.join(stage.obstacles)}."
        )
        units.append(Unit(f"stage:{stage.id}", "stage", stage.id, stage.name, text, (stage.id,), ()))
        for question in stage.questions:
            units.append(
                Unit(
                    f"question:{question.id}",
                    "question",
                    question.id,
                    question.text,
                    question.text,
                    (stage.id,),
                    tuple(question.personas),
                    question_ids=(question.id,),
                )
            )
    for asset in journey_map.assets:
        answered = [question_text[q] for q in asset.answers if q in question_text]
        text = (
            f"{asset.title}. {asset.summary} Format: {asset.format.replace('_', ' ')}. "
            f"Stages: {', '.join(stage_names.get(s, s) for s in asset.stages)}. "
            f"For: {', '.join(persona_names.get(p, p) for p in asset.personas) or 'everyone'}."
        )
        if answered:
            text += " Answers: " + " ".join(answered)
        units.append(
            Unit(
                f"asset:{asset.id}",
                "asset",
                asset.id,
                asset.title,
                text,
                tuple(asset.stages),
                tuple(asset.personas),
                url=str(asset.url),
                question_ids=tuple(asset.answers),
                dense_text=f"{asset.title}. {asset.summary} Stage: {', '.join(stage_names.get(s, s) for s in asset.stages)}.",
            )
        )
    for persona in journey_map.personas:
        text = (
            f"{persona.name} ({persona.role.value.replace('_', ' ')}; {', '.join(persona.aliases)}). {persona.background} "
            f"Pain points: {'; '.join(persona.pain_points)}. Decision criteria: {'; '.join(persona.decision_criteria)}."
        )
        units.append(Unit(f"persona:{persona.id}", "persona", persona.id, persona.name, text, (), (persona.id,)))
    for touchpoint in journey_map.touchpoints:
        text = f"{touchpoint.name} ({touchpoint.channel.replace('_', ' ')}). {touchpoint.description}"
        units.append(
            Unit(
                f"touchpoint:{touchpoint.id}",
                "touchpoint",
                touchpoint.id,
                touchpoint.name,
                text,
                tuple(touchpoint.stages),
                tuple(touchpoint.personas),
            )
        )
    units.extend(example_units(journey_map))
    return units


def example_units(journey_map: JourneyMap) -> list[Unit]:
    """Short labelled texts the map already holds (a stage's goals, emotions, obstacles,
    triggers; a persona's KPIs, pains, criteria, motivations per stage): the training
    data stage and persona inference learn from, indexed with the release."""
    out: list[Unit] = []

    def add(ref: str, text: str, stages: tuple[str, ...], personas: tuple[str, ...]) -> None:
        n = len(out)
        out.append(Unit(f"example:{n}", "example", ref, text[:80], text, stages, personas))

    for stage in journey_map.stages:
        own = (stage.id,)
        for text in [stage.definition, *stage.goals, *stage.emotions, *stage.obstacles,
                     *stage.information_needed, stage.trigger_in, *stage.handoff_criteria]:
            add(stage.id, text, own, ())
    for persona in journey_map.personas:
        own = (persona.id,)
        titles = ", ".join([persona.name, *persona.aliases])
        for text in [titles, persona.background, *persona.kpis, *persona.pain_points, *persona.goals,
                     *persona.decision_criteria]:
            add(persona.id, text, (), own)
        for stage_id, text in persona.stage_motivations.items():
            add(persona.id, text, (stage_id,), own)
    return out
