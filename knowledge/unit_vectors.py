"""A release's unit vectors (ids, float32 vectors, metadata) as one file in the data dir.

Every process needs all of a release's vectors anyway (the stage/persona classifier is
fitted from them), and an exact numpy search over a few thousand units is as fast as
Chroma's. Keeping them in a snapshot file spares each later process importing chromadb
(about a second of every CLI start) and reading the collection again. Collection names
are unique per release, so a snapshot never changes once written; Chroma stays the
index store, and a deleted snapshot is fetched from it again on next use.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

DIMENSIONS = 384
PAGE_SIZE = 2000


@dataclass
class UnitVectors:
    """The units of one release, searchable by exact cosine similarity."""

    ids: list[str]
    vectors: np.ndarray  # (units, dimensions), float32, as stored
    metadatas: list[dict[str, Any]]
    _subsets: dict[tuple[str, str | None], tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        norms = np.linalg.norm(self.vectors, axis=1, keepdims=True) if len(self.vectors) else np.ones((0, 1))
        self._unit = (self.vectors / np.clip(norms, 1e-12, None)).astype(np.float32)

    def search(self, vector: list[float] | np.ndarray, k: int, kind: str, stage_id: str | None = None) -> dict[str, float]:
        """Cosine similarity of the k nearest units of `kind` (tagged with `stage_id` when
        given), best first: the filters the retriever used on Chroma, exact."""
        rows, matrix = self._subset(kind, stage_id)
        if not len(rows) or k <= 0:
            return {}
        query = np.asarray(vector, dtype=np.float32)
        # einsum, not `@`: OpenBLAS runs a product this size on all cores and its threads
        # then spin, starving the ONNX query embedding (5,000 assets: p95 doubled).
        scores = np.einsum("ij,j->i", matrix, query / max(float(np.linalg.norm(query)), 1e-12))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        return {self.ids[rows[i]]: float(scores[i]) for i in top}

    def _subset(self, kind: str, stage_id: str | None) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers and unit vectors matching a filter, computed once per filter."""
        key = (kind, stage_id)
        with self._lock:
            if key not in self._subsets:
                flag = f"stage_{stage_id}"
                rows = np.array([i for i, m in enumerate(self.metadatas)
                                 if m.get("kind") == kind and (stage_id is None or m.get(flag) is True)], dtype=np.int64)
                self._subsets[key] = (rows, np.ascontiguousarray(self._unit[rows]))
            return self._subsets[key]


def snapshot_path(folder: Path, collection: str) -> Path:
    return folder / f"{collection}.npz"


def save(path: Path, units: UnitVectors) -> None:
    """Write atomically (a temporary file, then a rename): readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".npz")
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, ids=np.array(units.ids, dtype=str), vectors=units.vectors.astype(np.float32),
                     metadata=np.array(json.dumps(units.metadatas)))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(path: Path) -> UnitVectors | None:
    """The snapshot at `path`, or None when it is missing or unreadable (then it is fetched again)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            ids = [str(i) for i in data["ids"]]
            vectors = np.asarray(data["vectors"], dtype=np.float32).reshape(len(ids), -1)
            metadatas = [dict(m) for m in json.loads(str(data["metadata"]))]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None
    if len(metadatas) != len(ids):
        return None
    return UnitVectors(ids, vectors, metadatas)


def fetch(collection: Any) -> UnitVectors:
    """Every unit of a chromadb collection, read page by page."""
    ids: list[str] = []
    vectors: list[np.ndarray] = []
    metadatas: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = collection.get(include=["embeddings", "metadatas"], limit=PAGE_SIZE, offset=offset)
        embeddings = page["embeddings"] if page["embeddings"] is not None else []
        ids.extend(page["ids"])
        vectors.extend(np.asarray(v, dtype=np.float32) for v in embeddings)
        metadatas.extend(dict(m or {}) for m in page["metadatas"] or [])
        if len(page["ids"]) < PAGE_SIZE:
            break
        offset += PAGE_SIZE
    matrix = np.vstack(vectors) if vectors else np.zeros((0, DIMENSIONS), dtype=np.float32)
    return UnitVectors(ids, matrix, metadatas)


def remove(folder: Path, collection: str) -> None:
    snapshot_path(folder, collection).unlink(missing_ok=True)
