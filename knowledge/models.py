"""The journey map as typed data: stages x personas x touchpoints x content.

Field names here are the YAML keys (docs/journey-map.md). Cross-references (stage,
persona and question ids) are checked in `knowledge.validation`, which reports every
problem with its line.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", min_length=2, max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OwnerTeam(StrEnum):
    marketing = "marketing"
    sales = "sales"
    customer_success = "customer_success"


class CommitteeRole(StrEnum):
    economic_buyer = "economic_buyer"
    technical_evaluator = "technical_evaluator"
    end_user = "end_user"
    financial_gatekeeper = "financial_gatekeeper"
    champion = "champion"
    influencer = "influencer"


class BuyerQuestion(_Strict):
    """A question the buyer needs answered in a stage; content exists to answer it."""

    id: Slug
    text: Text
    personas: list[Slug] = Field(default_factory=list, description="Personas who ask it; empty = all.")


class HubSpotMapping(_Strict):
    """Where the stage sits in the CRM, so movement can be measured."""

    lifecycle_stages: list[Slug] = Field(default_factory=list)
    deal_stages: list[Annotated[str, StringConstraints(min_length=1)]] = Field(default_factory=list)


class Stage(_Strict):
    id: Slug
    name: Text
    order: int = Field(ge=1)
    aliases: list[Text] = Field(default_factory=list, description="Other names reps use for the stage.")
    definition: Text = Field(description="What the buyer does and says in this stage.")
    goals: list[Text] = Field(min_length=1)
    questions: list[BuyerQuestion] = Field(default_factory=list)
    emotions: list[Text] = Field(default_factory=list)
    obstacles: list[Text] = Field(default_factory=list)
    information_needed: list[Text] = Field(default_factory=list)
    trigger_in: Text
    trigger_out: Text
    target_days_in_stage: float = Field(gt=0, description="Target median days in the stage.")
    owner_team: OwnerTeam
    handoff_criteria: list[Text] = Field(default_factory=list)
    hubspot: HubSpotMapping = Field(default_factory=HubSpotMapping)


class Persona(_Strict):
    id: Slug
    name: Text
    role: CommitteeRole
    aliases: list[Text] = Field(default_factory=list, description="Titles and nicknames reps use.")
    background: Text
    kpis: list[Text] = Field(default_factory=list)
    pain_points: list[Text] = Field(default_factory=list)
    goals: list[Text] = Field(default_factory=list)
    trusted_sources: list[Text] = Field(default_factory=list)
    decision_criteria: list[Text] = Field(default_factory=list)
    stage_motivations: dict[Slug, Text] = Field(
        default_factory=dict, description="What moves this persona, by stage id."
    )
    hubspot_buying_roles: list[Text] = Field(default_factory=list)
    job_title_patterns: list[Text] = Field(default_factory=list, description="Case-insensitive regexes.")


class Touchpoint(_Strict):
    id: Slug
    name: Text
    channel: Text
    stages: list[Slug] = Field(min_length=1)
    personas: list[Slug] = Field(default_factory=list)
    online: bool = True
    description: str = ""


class ContentAsset(_Strict):
    id: Slug
    title: Text
    url: HttpUrl
    format: Text
    stages: list[Slug] = Field(min_length=1)
    personas: list[Slug] = Field(default_factory=list, description="Empty = fits every persona.")
    answers: list[Slug] = Field(default_factory=list, description="Ids of the buyer questions it answers.")
    summary: Text
    owner: Text
    last_reviewed: dt.date


class JourneyMap(_Strict):
    name: Text
    version: Text
    owner: Text
    updated: dt.date | None = None
    description: str = ""
    stages: list[Stage] = Field(min_length=1)
    personas: list[Persona] = Field(min_length=1)
    touchpoints: list[Touchpoint] = Field(default_factory=list)
    assets: list[ContentAsset] = Field(default_factory=list)

    def stage(self, stage_id: str) -> Stage:
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise KeyError(stage_id)

    def persona(self, persona_id: str) -> Persona:
        for persona in self.personas:
            if persona.id == persona_id:
                return persona
        raise KeyError(persona_id)

    def questions(self) -> list[tuple[Stage, BuyerQuestion]]:
        return [(stage, q) for stage in self.stages for q in stage.questions]

    def question(self, question_id: str) -> tuple[Stage, BuyerQuestion]:
        for stage, q in self.questions():
            if q.id == question_id:
                return stage, q
        raise KeyError(question_id)
