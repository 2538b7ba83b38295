"""Indexing the validated map into Chroma through langchain-chroma.

Incremental: a unit whose content hash is unchanged reuses its stored vector and is not
re-embedded. Atomic: a release is written to a new collection and only then made
active in the database, so readers see the old index or the new one, never half.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from chromadb.api import ClientAPI
from langchain_core.embeddings import Embeddings
from sqlalchemy.engine import Engine

from config import Settings
from knowledge import unit_vectors
from knowledge.embeddings import MiniLMEmbeddings
from knowledge.live import ensure_collection
from knowledge.models import JourneyMap
from knowledge.units import Unit, build_units
from knowledge.vectorstore import chroma_client, collection_names, open_collection, open_store
from storage.engine import session_scope
from storage.index_release import IndexRelease, activate_release, fetch_active_release, release_collections
from storage.locks import exclusive

log = logging.getLogger(__name__)

EMBEDDING_MODEL_ID = "all-MiniLM-L6-v2-int8-onnx"
ADD_BATCH = 256
KEEP_COLLECTIONS = 2  # the live one and the one before it, for readers still on it

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class IndexReport:
    collection: str
    units: int
    embedded: int
    reused: int
    unchanged: bool
    seconds: float


class _ReusingEmbeddings(Embeddings):
    """Serves stored vectors for texts already embedded; embeds only the rest (and is the
    langchain `Embeddings` adapter langchain-chroma needs)."""

    def __init__(self, inner: MiniLMEmbeddings, known: dict[str, list[float]]) -> None:
        self.inner = inner
        self.known = known
        self.embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        missing = [t for t in dict.fromkeys(texts) if _text_key(t) not in self.known]
        if missing:
            for text, vector in zip(missing, self.inner.embed_documents(missing), strict=True):
                self.known[_text_key(text)] = vector
            self.embedded += len(missing)
        return [self.known[_text_key(t)] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def release_digest(journey_map: JourneyMap, units: list[Unit]) -> str:
    """Changes when the map, the way it is cut into units, or the model changes."""
    payload = "".join(u.content_hash for u in units) + journey_map.model_dump_json() + EMBEDDING_MODEL_ID
    return hashlib.sha256(payload.encode()).hexdigest()


def index_map(
    settings: Settings,
    engine: Engine,
    journey_map: JourneyMap,
    embeddings: MiniLMEmbeddings,
    *,
    progress: Progress | None = None,
    force: bool = False,
) -> IndexReport:
    """Make `journey_map` the live index; re-embeds only what changed. One build at a
    time per database: a process that finds no index (or a changed map) at the same
    moment as another waits for that build and then uses it instead of building again."""
    started = time.perf_counter()
    prefix = settings.chroma_collection_prefix
    client = chroma_client(settings)
    units = build_units(journey_map)
    digest = release_digest(journey_map, units)
    with exclusive(engine, f"index-{prefix}"):
        with session_scope(engine) as session:
            active = fetch_active_release(session, prefix)
        if active is not None and active.map_sha256 == digest and not force:
            # Built already (maybe by the process this one waited for); a Chroma of this
            # process's own that lacks it gets the same release's collection, not a new release.
            present = open_collection(client, active.collection) is not None
            if not present:
                ensure_collection(settings, engine, active, embeddings)
            if progress:
                progress(len(units), len(units))
            rebuilt = 0 if present else len(units)
            return IndexReport(active.collection, len(units), rebuilt, len(units) - rebuilt, True,
                               time.perf_counter() - started)
        live = active is not None and open_collection(client, active.collection) is not None
        known = _stored_vectors(client, active.collection) if active and live and not force else {}
        reusing = _ReusingEmbeddings(embeddings, known)
        # Creation time (microseconds) and digest: unique per build, readable in a Chroma listing.
        name = f"{prefix}-{dt.datetime.now(dt.UTC).strftime('%Y%m%d%H%M%S%f')}-{digest[:8]}"
        _fill(client, name, units, reusing, progress)
        release = IndexRelease(
            collection=name,
            map_name=journey_map.name,
            map_version=journey_map.version,
            map_sha256=digest,
            map_json=journey_map.model_dump_json(),
            embedding_model=EMBEDDING_MODEL_ID,
            unit_count=len(units),
            embedded_count=reusing.embedded,
        )
        with session_scope(engine) as session:
            activate_release(session, release, prefix)
        drop_retired_collections(settings, client, engine, keep=name)
    log.info("index %s live: %d units, %d embedded", name, len(units), reusing.embedded)
    return IndexReport(name, len(units), reusing.embedded, len(units) - reusing.embedded, False, time.perf_counter() - started)


def _fill(client: ClientAPI, name: str, units: list[Unit], embeddings: Embeddings,
          progress: Progress | None) -> None:
    """Write every unit into a new collection `name`; on any failure the collection is dropped."""
    store = open_store(client, name, embeddings, create=True)
    try:
        for start in range(0, len(units), ADD_BATCH):
            batch = units[start : start + ADD_BATCH]
            store.add_texts(
                texts=[u.embed_text for u in batch], metadatas=[u.metadata() for u in batch], ids=[u.id for u in batch]
            )
            if progress:
                progress(min(start + ADD_BATCH, len(units)), len(units))
        stored = client.get_collection(name).count()
        if stored != len(units):
            raise RuntimeError(f"index release {name} holds {stored} units, expected {len(units)}")
    except BaseException:
        client.delete_collection(name)
        raise


def rebuild_collection(client: ClientAPI, release: IndexRelease, embeddings: MiniLMEmbeddings) -> int:
    """Recreate a release's missing collection from the map stored with it (a process whose
    Chroma folder was deleted, or that runs in another container than `release`). Returns
    the number of units written."""
    started = time.perf_counter()
    journey_map = JourneyMap.model_validate_json(release.map_json)
    units = build_units(journey_map)
    _fill(client, release.collection, units, _ReusingEmbeddings(embeddings, {}), None)
    log.warning("index collection %s was missing: rebuilt it from the map stored with release %s "
                "(%s v%s, %d units) in %.1fs", release.collection, release.id, release.map_name, release.map_version,
                len(units), time.perf_counter() - started)
    return len(units)


def _stored_vectors(client: ClientAPI, collection: str) -> dict[str, list[float]]:
    """Vectors of the live release keyed by the hash of their text."""
    stored = client.get_collection(collection)
    known: dict[str, list[float]] = {}
    total = stored.count()
    for offset in range(0, total, 1000):
        page = stored.get(include=["embeddings", "documents"], limit=1000, offset=offset)
        for text, vector in zip(page["documents"] or [], page["embeddings"] if page["embeddings"] is not None else [], strict=True):
            known[_text_key(text)] = list(map(float, vector))
    return known


def drop_retired_collections(settings: Settings, client: ClientAPI, engine: Engine, keep: str) -> None:
    """Drop this database's retired collections from `client`, and their vector snapshots
    from the data dir, keeping `keep` and the newest KEEP_COLLECTIONS releases (the live
    one and the one before it, for readers still on it). Only collections this database's
    release table lists are touched: a Chroma folder or server shared by several
    deployments (one database each) holds their collections under the same prefix, and
    those are never ours to drop."""
    prefix = settings.chroma_collection_prefix
    with session_scope(engine) as session:
        owned = release_collections(session, prefix)
    kept = {keep, *owned[:KEEP_COLLECTIONS]}
    present = set(collection_names(client, prefix))
    for name in owned:
        if name not in kept:
            if name in present:
                client.delete_collection(name)
            unit_vectors.remove(settings.vectors_dir, name)
