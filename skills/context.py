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
        """The live map (indexing it first when nothing is indexed yet), read from the active
        release's row: going through the live index would import Chroma and load the
        embedding model (~1 s of a CLI process) for a map that CRM skills only read."""
        found = active_journey_map(self.settings, self.engine)
        if found is None:
            self.knowledge.index()
            found = active_journey_map(self.settings, self.engine)
        if found is None:
            from knowledge.live import IndexNotBuilt

            raise IndexNotBuilt("no journey map has been indexed yet: run `journeybot index`")
        return found

    @property
    def crm_configured(self) -> bool:
        return self.settings.hubspot_access_token is not None

    @cached_property
    def gateway(self) -> CrmGateway:
        from skills.crm import CrmGateway

        return CrmGateway(self.settings, engine=self.engine, now=self.clock, patient=not self.interactive)


_PARSED: dict[str, JourneyMap] = {}


def active_journey_map(settings: Settings, engine: Engine) -> JourneyMap | None:
    """The active release's map, parsed once per process for the same stored map (a bot
    reads it on every request)."""
    from knowledge.models import JourneyMap
    from storage.engine import session_scope
    from storage.index_release import fetch_active_release

    with session_scope(engine) as session:
        release = fetch_active_release(session, settings.chroma_collection_prefix)
        raw = None if release is None else release.map_json
    if raw is None:
        return None
    parsed = _PARSED.get(raw)
    if parsed is None:  # threads may race here: at worst one parses twice
        parsed = JourneyMap.model_validate_json(raw)
        _PARSED.clear()  # one live map at a time is the common case; keep memory flat
        _PARSED[raw] = parsed
    return parsed
