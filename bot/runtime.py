"""Everything the listeners share, built once per process from settings."""

from __future__ import annotations

import gc
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from slack_sdk import WebClient
from sqlmodel import Session

from bot.access import AccessPolicy
from bot.channels import ChannelDirectory
from config import Settings
from knowledge.service import KnowledgeService
from skills.context import SkillContext
from skills.registry import Registry
from skills.understanding import Understander, understander_for
from storage.engine import session_scope
from storage.report_files import prune_older_than_days
from storage.timestamps import utc_now

log = logging.getLogger(__name__)


@dataclass
class BotRuntime:
    settings: Settings
    knowledge: KnowledgeService
    registry: Registry
    client: WebClient
    access: AccessPolicy
    clock: Callable[[], object] = field(default=utc_now)
    # Answers are CPU-bound: running more at once than there are cores only slows them
    # all and starves the acks, which must leave within Slack's 3 s.
    work: threading.BoundedSemaphore = field(default_factory=lambda: threading.BoundedSemaphore(os.cpu_count() or 2))
    # What a `deals` job does with the ids of deals whose stage changed (HubSpot webhooks);
    # None: nothing (the clock's scan still finds every change).
    on_deal_changes: Callable[[list[str]], None] | None = None

    _understander: Understander | None = field(default=None, init=False, repr=False)
    _channels: ChannelDirectory | None = field(default=None, init=False, repr=False)

    @property
    def channels(self) -> ChannelDirectory:
        if self._channels is None:
            self._channels = ChannelDirectory(self.client)
        return self._channels

    def understander(self) -> Understander:
        """Built on first use (the intent examples are embedded once per process)."""
        if self._understander is None:
            self._understander = understander_for(self.context(None, None), self.registry)
        return self._understander

    def warm_up(self) -> None:
        """Load the index, the intent examples and the model before taking traffic, so the
        first question is as quick as the rest; a missing index is reported, not fatal.

        Then what the process loaded is moved out of the garbage collector's full passes:
        the libraries, model and index are about 230,000 objects that live as long as the
        process, and a full collection walking them took 120 ms, stalling every request in
        flight (docs/benchmarks.md)."""
        self.prune_reports()
        try:
            self.knowledge.live.current()
            self.understander().understand("warm up")
        except Exception:  # noqa: BLE001 - the first request will say what is wrong, in one line
            log.warning("warm-up failed; the first request will try again", exc_info=True)
        gc.collect()
        gc.freeze()

    def prune_reports(self) -> None:
        """Delete local report copies older than the keep-days setting. Called at boot and
        after each answer that wrote files: a web or worker process that runs for months
        writes a chart per velocity or gaps answer, and its copies are in Slack already."""
        removed = prune_older_than_days(self.settings.reports_dir, self.settings.reports_keep_days)
        if removed:
            log.info("deleted %d report files older than %g days", removed, self.settings.reports_keep_days)

    def context(self, channel: str | None, user: str | None) -> SkillContext:
        """Answers are posted, so charts are written (and then uploaded) under the data dir."""
        return SkillContext(self.settings, self.knowledge, clock=self.clock, channel=channel, user=user,  # type: ignore[arg-type]
                            reports_dir=self.settings.reports_dir)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.knowledge.engine) as session:
            yield session

