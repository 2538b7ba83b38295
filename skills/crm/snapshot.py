"""The local snapshot of CRM object lists: the first run lists everything, later runs search
only what was modified since (plus an overlap for HubSpot's search lag) and merge it in;
every `hubspot_snapshot_max_age_h` a full list replaces it (how deletions disappear).
Deals, companies, contacts and the five engagement types are all kept this way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence

from sqlalchemy.engine import Engine

from config.settings import Settings
from skills.crm.fetch import Fetcher, Progress
from storage.crm_snapshot import (
    SnapshotRow,
    fetch_snapshot,
    fetch_snapshot_state,
    replace_snapshot,
    save_snapshot_objects,
    save_snapshot_state,
    snapshot_size,
)
from storage.engine import session_scope
from storage.locks import exclusive

Enrich = Callable[[list[SnapshotRow]], list[SnapshotRow]]


def _same(rows: list[SnapshotRow]) -> list[SnapshotRow]:
    return rows


class SnapshotCache:
    """Brings one object type's cached list up to date, then serves it (or some ids of it)."""

    def __init__(self, settings: Settings, fetcher: Fetcher, engine: Engine,
                 now: Callable[[], dt.datetime]) -> None:
        self.settings = settings
        self.fetcher = fetcher
        self.engine = engine
        self._now = now

    def rows(self, object_type: str, props: list[str], progress: Progress | None = None,
             enrich: Enrich = _same) -> list[SnapshotRow]:
        """The whole cached list, refreshed first."""
        listed = self._refresh(object_type, props, progress, enrich)
        if listed is not None:
            return listed
        with session_scope(self.engine) as session:
            return fetch_snapshot(session, object_type)

    def refresh(self, object_type: str, props: list[str], enrich: Enrich = _same) -> None:
        """Bring the cached list up to date without reading it back (a full list the first
        time, else only what was modified since)."""
        self._refresh(object_type, props, None, enrich)

    def rows_by_id(self, object_type: str, props: list[str], ids: Sequence[str]) -> list[SnapshotRow]:
        """Only these objects, refreshed first; ids the search index has not caught up with
        yet (HubSpot's lag) are batch-read, so a fresh record is never missed."""
        wanted = list(dict.fromkeys(ids))
        listed = self._refresh(object_type, props, None, _same)
        if listed is not None:
            keep = set(wanted)
            found = [row for row in listed if row.object_id in keep]
        else:
            with session_scope(self.engine) as session:
                found = fetch_snapshot(session, object_type, wanted)
        seen = {row.object_id for row in found}
        missing = [i for i in wanted if i not in seen]
        return found + (self.fetcher.batch_read(object_type, missing, props) if missing else [])

    def _refresh(self, object_type: str, props: list[str], progress: Progress | None,
                 enrich: Enrich) -> list[SnapshotRow] | None:
        """Full or incremental sync; returns the full list when it listed everything anyway.
        One sync of a type at a time across processes and threads (the clock's nudge scan and
        a digest, or the clock and a worker, may start one together): the second waits and
        then finds only what changed meanwhile, instead of both writing the same rows."""
        with exclusive(self.engine, f"crm-snapshot:{object_type}"):
            return self._sync(object_type, props, progress, enrich)

    def _sync(self, object_type: str, props: list[str], progress: Progress | None,
              enrich: Enrich) -> list[SnapshotRow] | None:
        scope_key = hashlib.sha256(",".join(sorted(props)).encode()).hexdigest()[:32]
        now = self._now()
        with session_scope(self.engine) as session:
            state = fetch_snapshot_state(session, object_type)
            cached = None if state is None else (state.scope_key, state.high_watermark_ms, state.full_sync_at)
        max_age = dt.timedelta(hours=self.settings.hubspot_snapshot_max_age_h)
        full_at = None if cached is None else cached[2]
        if cached is None or full_at is None or cached[0] != scope_key or now - full_at > max_age:
            started_ms = int(now.timestamp() * 1000)
            rows = enrich(self.fetcher.list_all(object_type, props, progress))
            seen = max((row.last_modified_ms for row in rows), default=0)
            with session_scope(self.engine) as session:
                replace_snapshot(session, object_type, rows)
                save_snapshot_state(session, object_type, scope_key=scope_key, full=True, now=now,
                                    high_watermark_ms=min(seen, started_ms), object_count=len(rows))
            return rows
        watermark = cached[1]
        since = watermark - int(self.settings.hubspot_sync_overlap_s * 1000)
        changed = enrich(self.fetcher.modified_since(object_type, since, props, progress))
        with session_scope(self.engine) as session:
            save_snapshot_objects(session, object_type, changed)
            top = max([watermark] + [row.last_modified_ms for row in changed])
            save_snapshot_state(session, object_type, scope_key=scope_key, full=False, now=now,
                                high_watermark_ms=top, object_count=snapshot_size(session, object_type))
        return None
