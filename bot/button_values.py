"""What a button carries, typed, with its one encoding ("|"-separated, <= 2,000 chars):
the blocks encode, the button handlers decode, and neither splits strings by hand."""

from __future__ import annotations

from dataclasses import dataclass

MAX_VALUE = 2000


class BadButtonValue(ValueError):
    """A value no button of ours produced (edited payload, an old message format)."""


@dataclass(frozen=True)
class RunRef:
    """SHARE and PICK_CHOICE: a skill and the argument text that runs it (for `ask` a log
    id, or "q:<question>" when the answer was not logged)."""

    skill: str
    ref: str

    def encode(self) -> str:
        return f"{self.skill}|{self.ref}"[:MAX_VALUE]

    @classmethod
    def decode(cls, value: str) -> RunRef:
        skill, sep, ref = value.partition("|")
        if not sep or not skill:
            raise BadButtonValue(value[:60])
        return cls(skill, ref)


@dataclass(frozen=True)
class MorePage:
    """SHOW_MORE: the same run from item `offset` on."""

    skill: str
    offset: int
    ref: str

    def encode(self) -> str:
        return f"{self.skill}|{self.offset}|{self.ref}"[:MAX_VALUE]

    @classmethod
    def decode(cls, value: str) -> MorePage:
        skill, _, rest = value.partition("|")
        offset, sep, ref = rest.partition("|")
        if not sep or not skill or not offset.isdigit():
            raise BadButtonValue(value[:60])
        return cls(skill, int(offset), ref)


@dataclass(frozen=True)
class AlertRef:
    """CHURN_ACK / CHURN_SNOOZE: which account's which risk rule."""

    company_id: str
    rule: str

    def encode(self) -> str:
        return f"{self.company_id}|{self.rule}"[:MAX_VALUE]

    @classmethod
    def decode(cls, value: str) -> AlertRef:
        company_id, sep, rule = value.partition("|")
        if not sep or not company_id or not rule:
            raise BadButtonValue(value[:60])
        return cls(company_id, rule)


@dataclass(frozen=True)
class SentRef:
    """SENT_IT: which asset went out on which deal, at which CRM stage and stage entry
    (epoch ms the deal entered it; None when the CRM did not say)."""

    deal_id: str
    stage_id: str
    asset_id: str
    entered_ms: int | None = None

    def encode(self) -> str:
        entered = "" if self.entered_ms is None else str(self.entered_ms)
        return f"{self.deal_id}|{self.stage_id}|{self.asset_id}|{entered}"[:MAX_VALUE]

    @classmethod
    def decode(cls, value: str) -> SentRef:
        parts = value.split("|")
        if len(parts) != 4 or not all(parts[:3]) or (parts[3] and not parts[3].isdigit()):
            raise BadButtonValue(value[:60])
        return cls(parts[0], parts[1], parts[2], int(parts[3]) if parts[3] else None)


def stored_ref(result_id: int, ref: str) -> str:
    """A ref that names a kept result ("@<id>") and, if it expired, how to run it again."""
    return f"@{result_id} {ref}"


def split_stored(ref: str) -> tuple[int | None, str]:
    """(kept result id or None, the argument text that runs the skill again)."""
    if ref.startswith("@"):
        head, _, rest = ref[1:].partition(" ")
        if head.isdigit():
            return int(head), rest
    return None, ref
