"""The work behind a Slack request (or a HubSpot webhook), as a plain value a queue can hold.

Listeners only verify, ack and enqueue a `Job`; a worker (in the same process with the
embedded defaults, a separate one on PostgreSQL) runs `perform`. A job holds what the
answer needs and nothing else (ids, the text typed, where to reply): no token, no CRM data.
A `deals` job (from HubSpot's webhooks) holds only the ids of deals whose stage changed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.replies import ReplyTo

log = logging.getLogger(__name__)

JobKind = Literal["command", "message", "action", "deals", "home"]  # home: publish the user's App Home
KINDS: tuple[JobKind, ...] = ("command", "message", "action", "deals", "home")
NOWHERE = ReplyTo("", "")  # a deals job answers no one: its work posts what it posts itself


@dataclass(frozen=True)
class Job:
    kind: JobKind
    to: ReplyTo
    text: str = ""  # command: the words after /journey; message: what was typed
    action_id: str = ""
    value: str = ""
    event_id: str | None = None  # Slack's id of the event (messages): the dedupe key
    message: dict[str, Any] = field(default_factory=dict)  # actions: the message the button sits on (ts, blocks)
    deal_ids: tuple[str, ...] = ()  # deals: CRM ids of deals whose stage changed

    @classmethod
    def deal_changes(cls, deal_ids: list[str]) -> Job:
        return cls("deals", NOWHERE, deal_ids=tuple(deal_ids))

    def to_dict(self) -> dict[str, Any]:
        """The job as a queue row's arguments, without the fields left empty: every ack
        pays for the JSON it enqueues (each quote escaped into procrastinate's row type),
        and a slash command's job is half empty fields (0.39 -> 0.20 ms of CPU per job)."""
        full: dict[str, Any] = {"kind": self.kind, "to": self.to.to_dict(), "text": self.text, "action_id": self.action_id,
                                "value": self.value, "event_id": self.event_id, "message": self.message,
                                "deal_ids": list(self.deal_ids)}
        return {k: v for k, v in full.items() if v not in ("", None, {}, [])}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        kind = data["kind"]
        if kind not in KINDS:
            raise ValueError(f"unknown job kind {kind!r}")
        return cls(kind, ReplyTo.from_dict(data["to"]), str(data.get("text") or ""), str(data.get("action_id") or ""),
                   str(data.get("value") or ""), data.get("event_id"), dict(data.get("message") or {}),
                   tuple(str(d) for d in data.get("deal_ids") or ()))

    def describe(self) -> str:
        """For logs: what kind of work, never what was typed."""
        if self.kind == "deals":
            return f"deals ({len(self.deal_ids)} changed)"
        return f"{self.kind} {self.action_id or self.event_id or ''}".strip()
