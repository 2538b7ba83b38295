"""The live index: the active release's map and a retriever over its collection.

Processes pick up a new release on their next question (one small query per question),
so re-indexing never needs a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.engine import Engine

from config import Settings
from knowledge.embeddings import MiniLMEmbeddings
from knowledge.models import JourneyMap
from knowledge.retrieval import Retriever
from knowledge.vectorstore import chroma_client, open_store
from storage.engine import session_scope
from storage.index_release import IndexRelease, fetch_active_release


T = TypeVar("T")


class IndexNotBuilt(RuntimeError):
    """No index release is live yet."""


@dataclass(frozen=True)
class LiveState:
    release: IndexRelease
    journey_map: JourneyMap
    retriever: Retriever


class LiveIndex:
    def __init__(self, settings: Settings, engine: Engine, embeddings: MiniLMEmbeddings) -> None:
        self.settings = settings
        self.engine = engine
        self.embeddings = embeddings
        self._state: LiveState | None = None
        self._lock = threading.Lock()

    def current(self) -> LiveState:
        with session_scope(self.engine) as session:
            release = fetch_active_release(session, self.settings.chroma_collection_prefix)
        if release is None:
            raise IndexNotBuilt("no journey map has been indexed yet: run `journeybot index`")
        with self._lock:
            if self._state is None or self._state.release.id != release.id:
                journey_map = JourneyMap.model_validate_json(release.map_json)
                store = open_store(
                    chroma_client(self.settings), release.collection, self.embeddings, create=False
                )
                self._state = LiveState(release, journey_map, Retriever(journey_map, store, self.embeddings))
            return self._state

    def run(self, action: Callable[[LiveState], T]) -> T:
        """Run `action` on the live release; if that release was retired mid-way (its
        collection dropped by a newer index), run it once more on the new one."""
        state = self.current()
        try:
            return action(state)
        except Exception:
            fresh = self.current()
            if fresh.release.id == state.release.id:
                raise
            return action(fresh)
