"""Chroma: a local persistent directory by default, a Chroma server when a host is set.

Each index release is its own collection (cosine space); `storage.index_release`
records which one is live. Writing goes through langchain-chroma (indexing); reading
uses chromadb's collection directly, because importing langchain-chroma costs about half
a second of every CLI start and a read needs nothing from it. A process reads a
release's collection once per data dir, into a vector snapshot (knowledge.unit_vectors);
questions are answered from that, so this module (and chromadb) is imported only where a
collection is written or read (knowledge.live imports it lazily).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import chromadb
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError

from config import ConfigError, Settings

if TYPE_CHECKING:
    from langchain_chroma import Chroma
    from langchain_core.embeddings import Embeddings

_clients: dict[tuple[str, ...], ClientAPI] = {}
_lock = threading.Lock()


def chroma_client(settings: Settings) -> ClientAPI:
    """One client per process and target (the local client is not cheap to open)."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    key: tuple[str, ...]
    if settings.chroma_host:
        key = ("http", settings.chroma_host, str(settings.chroma_port))
    else:
        key = ("local", str(Path(settings.chroma_path or ".").resolve()))
    with _lock:
        if key not in _clients:
            if settings.chroma_host:
                try:
                    _clients[key] = chromadb.HttpClient(
                        host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
                    )
                except Exception as exc:  # chromadb raises ValueError or httpx errors for a server it cannot reach
                    reason = (str(exc).splitlines() or [type(exc).__name__])[0].rstrip(".?! ")
                    raise ConfigError(
                        f"cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} "
                        f"(JOURNEYBOT_CHROMA_HOST, JOURNEYBOT_CHROMA_PORT): {reason}. "
                        "Start it, or unset JOURNEYBOT_CHROMA_HOST to use a local folder.", exit_code=1) from exc
            else:
                path = Path(settings.chroma_path or ".")
                path.mkdir(parents=True, exist_ok=True)
                _clients[key] = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        return _clients[key]


def open_store(client: ClientAPI, collection: str, embeddings: Embeddings, *, create: bool) -> Chroma:
    """A langchain-chroma store over `collection`, for writing."""
    from langchain_chroma import Chroma

    return Chroma(
        collection_name=collection,
        embedding_function=embeddings,
        client=client,
        collection_configuration={"hnsw": {"space": "cosine"}},
        create_collection_if_not_exists=create,
    )


def open_collection(client: ClientAPI, collection: str) -> chromadb.Collection | None:
    """The collection for reading, or None when it does not exist (deleted, or built elsewhere)."""
    try:
        found: chromadb.Collection = client.get_collection(collection)
    except (NotFoundError, ValueError):  # older chromadb raised ValueError for a missing collection
        return None
    return found


def collection_names(client: ClientAPI, prefix: str) -> list[str]:
    return sorted(c.name for c in client.list_collections() if c.name.startswith(prefix + "-"))
