"""A rendered Slack message: Block Kit blocks, the plain-text fallback, files to upload."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from slack_sdk.models.blocks import Block

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_FALLBACK_CHARS = 3000


@dataclass
class SlackMessage:
    text: str  # the notification / accessibility fallback: always set
    blocks: list[Block] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # images to upload with the message (charts, heatmaps)

    def payload_blocks(self) -> list[dict[str, object]]:
        return [b.to_dict() for b in self.blocks]
