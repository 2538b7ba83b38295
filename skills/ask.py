"""`ask`: the journey-map Q&A as a skill (every question is logged by the asker)."""

from __future__ import annotations

from knowledge.answers import Answer
from knowledge.catalog import resolve_persona, resolve_stage
from skills.context import SkillContext
from skills.registry import Arg, Skill


def run_ask(ctx: SkillContext, question: str, stage: str | None = None, persona: str | None = None) -> Answer:
    journey_map = ctx.journey_map
    stage_id = resolve_stage(journey_map, stage).id if stage else None
    persona_id = resolve_persona(journey_map, persona).id if persona else None
    return ctx.knowledge.asker.ask(question, stage_id=stage_id, persona_id=persona_id, channel=ctx.channel, user=ctx.user)


SKILL = Skill(
    name="ask",
    help="Answer a question from the journey map, with sources.",
    run=run_ask,
    args=(
        Arg("question", "the question, as you would ask a colleague", positional=True, required=True),
        Arg("stage", "force a stage (id, name or alias)"),
        Arg("persona", "force a persona (id, name or alias)"),
    ),
    examples=("ask CFO keeps asking about ROI, what do I send?", "ask what matters to IT --stage consideration"),
)
