"""What understanding a message produces: the skill and arguments it would run, the
names, time, stage and persona found, or the question to ask back; and what a thread
remembers for its follow-ups. Plain data, rendered by the bot, the CLI's `route` and tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from skills.entities import Entity
from skills.timephrases import TimeRange


@dataclass(frozen=True)
class Option:
    skill: str
    arguments: dict[str, Any]
    label: str

    def to_dict(self) -> dict[str, Any]:
        return {"skill": self.skill, "arguments": self.arguments, "label": self.label}


@dataclass(frozen=True)
class Clarification:
    question: str
    options: tuple[Option, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "options": [o.to_dict() for o in self.options]}


@dataclass(frozen=True)
class ThreadMemory:
    """What a thread was about, so "who else should we talk to there?" needs no name."""

    account: str | None = None  # company id or name
    deal: str | None = None
    stage_id: str | None = None
    persona_id: str | None = None


@dataclass
class Understanding:
    text: str
    skill: str | None
    arguments: dict[str, Any] = field(default_factory=dict)
    entities: list[Entity] = field(default_factory=list)
    time: TimeRange | None = None
    stage: str | None = None
    persona: str | None = None
    confidence: float = 0.0
    clarify: Clarification | None = None
    how: str = "meaning"  # "syntax", "meaning", "thread", "llm" or "language"
    scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        entities: list[dict[str, Any]] = [e.to_dict() for e in self.entities]
        if self.time:
            entities.append({"type": "time", "text": self.time.text, "name": None, "id": None,
                             "start": self.time.start.isoformat(), "end": self.time.end.isoformat()})
        return {
            "text": self.text,
            "skill": self.skill,
            "arguments": self.arguments,
            "entities": entities,
            "stage": self.stage,
            "persona": self.persona,
            "confidence": round(self.confidence, 3),
            "clarify": self.clarify.to_dict() if self.clarify else None,
            "how": self.how,
            "scores": {k: round(v, 3) for k, v in sorted(self.scores.items(), key=lambda kv: -kv[1])},
        }
