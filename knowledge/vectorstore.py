"""Chroma: a local persistent directory by default, a Chroma server when a host is set.

Each index release is its own collection (cosine space); `storage.index_release`
records which one is live.
"""

from __future__ import annotations

import threading
from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from config import Settings

_clients: dict[tuple[str, ...], chromadb.ClientAPI] = {}
_lock = threading.Lock()


def chroma_client(settings: Settings) -> chromadb.ClientAPI:
    """One client per process and target (the local client is not cheap to open)."""
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        key = ("http", settings.chroma_host, str(settings.chroma_port))
    else:
        key = ("local", str(Path(settings.chroma_path or ".").resolve()))
    with _lock:
        if key not in _clients:
            if settings.chroma_host:
                _clients[key] = chromadb.HttpClient(
                    host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
                )
            else:
                path = Path(settings.chroma_path or ".")
                path.mkdir(parents=True, exist_ok=True)
                _clients[key] = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        return _clients[key]


def open_store(client: chromadb.ClientAPI, collection: str, embeddings: Embeddings, *, create: bool) -> Chroma:
    return Chroma(
        collection_name=collection,
        embedding_function=embeddings,
        client=client,
        collection_configuration={"hnsw": {"space": "cosine"}},
        create_collection_if_not_exists=create,
    )


def collection_names(client: chromadb.ClientAPI, prefix: str) -> list[str]:
    return sorted(c.name for c in client.list_collections() if c.name.startswith(prefix + "-"))
