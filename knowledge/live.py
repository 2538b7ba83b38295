"""The live index: the active release's map and a retriever over its collection.

Processes pick up a new release on their next question (one small query per question),
so re-indexing never needs a restart. A process that finds the live release's collection
missing from its Chroma (its local folder deleted, or `release` indexed in another
container) rebuilds it from the map stored with the release: once, under a lock that
every process sharing the database sees.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.engine import Engine

from config import Settings
from knowledge.embeddings import MiniLMEmbeddings
from knowledge.models import JourneyMap
from knowledge.retrieval import Retriever
from knowledge.vectorstore import chroma_client, open_collection
from storage.engine import session_scope
from storage.index_release import IndexRelease, fetch_active_release
from storage.locks import exclusive

if TYPE_CHECKING:
    from chromadb import Collection


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
                collection = self._collection(release)
                self._state = LiveState(release, journey_map, Retriever(journey_map, collection, self.embeddings))
            return self._state

    def _collection(self, release: IndexRelease) -> Collection:
        client = chroma_client(self.settings)
        found = open_collection(client, release.collection)
        if found is None:
            from knowledge.indexing import rebuild_collection

            with exclusive(self.engine, f"rebuild-{release.collection}"):
                found = open_collection(client, release.collection)  # another process may have just done it
                if found is None:
                    rebuild_collection(client, release, self.embeddings)
                    found = open_collection(client, release.collection)
        if found is None:
            raise RuntimeError(f"index collection {release.collection} is missing and could not be rebuilt")
        return found

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
