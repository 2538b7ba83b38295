"""`ask`: the journey-map Q&A as a skill (every question is logged by the asker)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from knowledge.answers import Answer
from knowledge.catalog import resolve_persona, resolve_stage
from skills.context import SkillContext
from skills.registry import Arg, Skill

if TYPE_CHECKING:
    from knowledge.llm_stream import AnswerEvent


def run_ask(ctx: SkillContext, question: str, stage: str | None = None, persona: str | None = None) -> Answer:
    stage_id, persona_id = _forced(ctx, stage, persona)
    return ctx.knowledge.asker.ask(question, stage_id=stage_id, persona_id=persona_id, channel=ctx.channel,
                                   user=ctx.user, source=ctx.origin)


def stream_ask(
    ctx: SkillContext, question: str, stage: str | None = None, persona: str | None = None
) -> Iterator[AnswerEvent]:
    """`ask` as the model writes it (with an LLM configured): text deltas, then the Answer."""
    stage_id, persona_id = _forced(ctx, stage, persona)
    return ctx.knowledge.asker.stream(question, stage_id=stage_id, persona_id=persona_id, channel=ctx.channel,
                                      user=ctx.user, source=ctx.origin)


def _forced(ctx: SkillContext, stage: str | None, persona: str | None) -> tuple[str | None, str | None]:
    journey_map = ctx.journey_map
    return (resolve_stage(journey_map, stage).id if stage else None,
            resolve_persona(journey_map, persona).id if persona else None)


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
    utterances=(
        "CFO keeps asking about ROI, what do I send?",
        "what does the evaluation stage mean for us",
        "what should I share with a prospect who just realised they have this problem",
        "which content fits a security review",
        "what do buyers usually worry about right before they sign",
        "got anything for a customer who went live last month and needs training?",
        "hi! could you suggest something for an exec who doubts the business case?",
        "what questions do technical people ask when they compare vendors",
        "good case study for a happy customer who might refer us?",
        "what's the exit criteria for the stage after the demo",
        "need a one-pager for procurement",
        "what matters to the data team early on",
        "how do I explain the value to end users who hate new tools",
        "whats a good follow up after a first discovery call",
        "what do we send someone comparing us with a competitor",
        "anything educational for people who don't know they have the problem yet?",
        "which asset helps a customer grow usage to more teams",
        "wat content do we have for implementation kickoff",
        "what are the buyer's emotions when they start looking at solutions",
        "recommend something for a champion building an internal business case",
        'signed last month, their admins want to know how to connect their CRM. what do we have?',
        'end users want a feel for daily life in the tool',
        'typical questions from customers a few months in',
        'anything for the IT team early in the journey',
        'what does finance look for before approving a purchase',
        "how do I handle 'let's revisit next quarter' late in the deal?",
        "what's a good piece to send a sales leader who thinks their forecast is fine",
        'what does the buyer need to see before signing?',
        'the CFO wants a total cost of ownership number, what do we have',
        'any content on how long implementation takes?',
    ),
)
