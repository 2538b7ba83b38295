"""The live index: the active release's map and a retriever over its collection.

Processes pick up a new release on their next question (one small query per question),
so re-indexing never needs a restart. A process that finds the live release's collection
missing from its Chroma (its local folder deleted, or `release` indexed in another
container) rebuilds it from the map stored with the release: once per Chroma, under a
lock every process using that Chroma sees. The collection is opened on first use, so a
process that needs only the map (the clock's digest) never rebuilds one.

The release's vectors are read from Chroma once and kept as a snapshot in the data dir
(knowledge.unit_vectors): a process that finds the snapshot answers from it without
importing chromadb (about a second of every CLI start) or opening the collection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.engine import Engine

from config import Settings
from knowledge.models import JourneyMap
from storage.engine import session_scope
from storage.index_release import IndexRelease, fetch_active_release
from storage.locks import exclusive, file_lock

if TYPE_CHECKING:  # the retriever, the model and Chroma load when a question is answered, not for the map
    from chromadb import Collection

    from knowledge.embeddings import MiniLMEmbeddings
    from knowledge.retrieval import Retriever
    from knowledge.unit_vectors import UnitVectors


T = TypeVar("T")
REBUILD_LOCK_FILE = ".journeybot-rebuild.lock"


class IndexNotBuilt(RuntimeError):
    """No index release is live yet."""


class ReleaseRetired(RuntimeError):
    """The release's collection is gone because a newer release replaced it: read the new one."""


class LiveState:
    """One release: its map at once, its retriever (and Chroma collection) on first use."""

    def __init__(self, release: IndexRelease, journey_map: JourneyMap, open_retriever: Callable[[], Retriever]) -> None:
        self.release = release
        self.journey_map = journey_map
        self._open_retriever = open_retriever
        self._retriever: Retriever | None = None
        self._lock = threading.Lock()

    @property
    def retriever(self) -> Retriever:
        with self._lock:
            if self._retriever is None:
                self._retriever = self._open_retriever()
            return self._retriever


class LiveIndex:
    def __init__(self, settings: Settings, engine: Engine, embeddings: Callable[[], MiniLMEmbeddings]) -> None:
        self.settings = settings
        self.engine = engine
        self._embeddings = embeddings  # made on first use: reading the map needs no model
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
                self._state = LiveState(release, journey_map, lambda: self._retriever(release, journey_map))
            return self._state

    @property
    def embeddings(self) -> MiniLMEmbeddings:
        return self._embeddings()

    def _retriever(self, release: IndexRelease, journey_map: JourneyMap) -> Retriever:
        from knowledge.retrieval import Retriever

        return Retriever(journey_map, release_vectors(self.settings, self.engine, release, self.embeddings),
                         self.embeddings)

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


def release_vectors(settings: Settings, engine: Engine, release: IndexRelease,
                    embeddings: MiniLMEmbeddings) -> UnitVectors:
    """The release's unit vectors: from its snapshot in the data dir, else read from its
    collection (rebuilt when missing, as `ensure_collection` does) and snapshotted."""
    from knowledge import unit_vectors

    path = unit_vectors.snapshot_path(settings.vectors_dir, release.collection)
    found = unit_vectors.load(path)
    if found is None:
        found = unit_vectors.fetch(ensure_collection(settings, engine, release, embeddings))
        if len(found.ids) != release.unit_count:
            raise RuntimeError(f"index collection {release.collection} holds {len(found.ids)} units, "
                               f"expected {release.unit_count}")
        unit_vectors.save(path, found)
    return found


def ensure_collection(settings: Settings, engine: Engine, release: IndexRelease,
                      embeddings: MiniLMEmbeddings) -> Collection:
    """The release's collection in this process's Chroma, rebuilt from the release's map
    when missing; a collection another process is filling is waited for, not read half
    full. Only a live release is rebuilt: a retired one's collection was dropped
    on purpose (ReleaseRetired tells the reader to take the new release)."""
    from knowledge.vectorstore import chroma_client, open_collection  # chromadb: only when a collection is read

    client = chroma_client(settings)
    found = open_collection(client, release.collection)
    # Whole, or being rebuilt by another process right now (then wait for it below).
    if found is not None and found.count() >= release.unit_count:
        return found
    from knowledge.indexing import drop_retired_collections, rebuild_collection

    with rebuild_lock(settings, engine):
        found = open_collection(client, release.collection)  # another process may have just done it
        if found is not None and found.count() < release.unit_count:  # left half-built by a process that died
            client.delete_collection(release.collection)
            found = None
        if found is None:
            with session_scope(engine) as session:
                active = fetch_active_release(session, settings.chroma_collection_prefix)
            if active is None or active.id != release.id:
                raise ReleaseRetired(f"index collection {release.collection} was retired by a newer release")
            rebuild_collection(client, release, embeddings)
            # A folder of this process's own also holds the releases it rebuilt before.
            drop_retired_collections(settings, client, engine, keep=release.collection)
            found = open_collection(client, release.collection)
    if found is None:
        raise RuntimeError(f"index collection {release.collection} is missing and could not be rebuilt")
    return found


@contextmanager
def rebuild_lock(settings: Settings, engine: Engine) -> Iterator[None]:
    """Held while a missing collection is rebuilt, by the processes that share one Chroma:
    a lock file in a local Chroma folder (processes with folders of their own, e.g. one
    per container, rebuild side by side instead of queueing), the database's lock for a
    Chroma server (every process of a deployment uses the same one)."""
    if settings.chroma_host:
        with exclusive(engine, f"rebuild-{settings.chroma_host}:{settings.chroma_port}"):
            yield
    else:
        with file_lock(Path(settings.chroma_path or ".") / REBUILD_LOCK_FILE):
            yield
