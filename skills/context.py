"""What a skill runs with: settings, the knowledge service, the CRM gateway, the clock.

Entry points (CLI, Slack, scheduler, tests) build one `SkillContext` and pass it to the
registry; skills never read the environment or call Slack.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from config import Settings
from storage.timestamps import utc_now

if TYPE_CHECKING:
    from knowledge.models import JourneyMap
    from knowledge.service import KnowledgeService
    from skills.crm import CrmGateway


@dataclass
class SkillContext:
    settings: Settings
    knowledge: KnowledgeService
    clock: Callable[[], dt.datetime] = field(default=utc_now)
    channel: str | None = None
    user: str | None = None
    interactive: bool = False  # a person is waiting: CRM connection failures are reported at once
    source: str | None = None  # where the request came from (slack, cli, ...); default: slack with a channel, else cli
    # Where a skill may write report files (charts, CSV): set where they are posted or
    # asked for (`--out`); None writes none, so a plain CLI run leaves no files behind.
    reports_dir: Path | None = None

    @property
    def origin(self) -> str:
        return self.source or ("slack" if self.channel else "cli")

    @property
    def now(self) -> dt.datetime:
        return self.clock()

    @property
    def engine(self) -> Engine:
        return self.knowledge.engine

    @property
    def journey_map(self) -> JourneyMap:
        """The live map (indexing it first when nothing is indexed yet). Reading it opens
        neither Chroma nor the embedding model: CRM skills only read the map."""
        from knowledge.live import IndexNotBuilt

        try:
            return self.knowledge.live.current().journey_map
        except IndexNotBuilt:
            self.knowledge.index()
            return self.knowledge.live.current().journey_map

    @property
    def crm_configured(self) -> bool:
        return self.settings.hubspot_access_token is not None

    @cached_property
    def gateway(self) -> CrmGateway:
        from skills.crm import CrmGateway

        return CrmGateway(self.settings, engine=self.engine, now=self.clock, patient=not self.interactive)

