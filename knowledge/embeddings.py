"""Sentence embeddings on the CPU: all-MiniLM-L6-v2 through onnxruntime, offline.

Equivalent to chromadb's ONNX MiniLM function (mean pooling over the attention mask,
L2-normalised) but it pads each batch only to its longest text rather than to 256
tokens, and keeps one session per process: ~25x faster on two cores, same vectors.
It has the two methods of langchain's `Embeddings` but does not subclass it: that import
costs a tenth of a second of every CLI start; indexing wraps it in a langchain adapter.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from knowledge.model_files import MODEL_FILES, verify_model_dir
from knowledge.onnx_session import open_session

log = logging.getLogger(__name__)

MAX_TOKENS = 256  # the model was trained on sequences of at most 256 word pieces
DIMENSIONS = 384
RECENT_QUERIES = 64


class MiniLMEmbeddings:
    """all-MiniLM-L6-v2 embeddings; build once per process with `shared_embeddings`."""

    def __init__(
        self, model_dir: Path, *, batch_size: int = 64, threads: int = 0, document_max_tokens: int = MAX_TOKENS
    ) -> None:
        verify_model_dir(model_dir)
        self.model_dir = model_dir
        self.batch_size = batch_size
        self.document_max_tokens = min(document_max_tokens, MAX_TOKENS)
        self._tokenizers: dict[int, Tokenizer] = {}
        self._tokenizer_lock = threading.Lock()
        self._threads = threads
        self._session: ort.InferenceSession | None = None
        self._session_lock = threading.Lock()
        self._recent: OrderedDict[str, list[float]] = OrderedDict()
        self._recent_lock = threading.Lock()

    def _onnx(self) -> ort.InferenceSession:
        """The ONNX session, created on the first embedding (0.2-0.3 s): a process that only
        reads the live map (the CRM skills) never pays for it."""
        with self._session_lock:
            if self._session is None:
                self._session = open_session(self.model_dir / "model.onnx", MODEL_FILES["model.onnx"][2],
                                             threads=self._threads)
            return self._session

    def open_in_background(self) -> None:
        """Start creating the ONNX session on a thread of its own. onnxruntime releases the
        GIL while it loads the graph, so a command that will embed (a cold `ask`) overlaps
        that 0.2 s with its own imports and database reads; the first embedding waits for it."""
        if self._session is None:
            threading.Thread(target=self._open_quietly, name="embedding-model", daemon=True).start()

    def _open_quietly(self) -> None:
        try:
            self._onnx()
        except Exception:  # noqa: BLE001 - the first embedding opens it again and reports the error
            log.debug("opening the embedding model ahead of use failed", exc_info=True)

    def _tokenizer(self, max_tokens: int) -> Tokenizer:
        """One tokenizer per truncation length, read when first used: answering a question
        never needs the indexing one."""
        if max_tokens not in (MAX_TOKENS, self.document_max_tokens):
            raise ValueError(f"max_tokens must be {MAX_TOKENS} or {self.document_max_tokens}, not {max_tokens}")
        with self._tokenizer_lock:
            if max_tokens not in self._tokenizers:
                self._tokenizers[max_tokens] = _tokenizer(self.model_dir, max_tokens)
            return self._tokenizers[max_tokens]

    def _embed_batch(self, texts: list[str], max_tokens: int) -> np.ndarray:
        encodings = self._tokenizer(max_tokens).encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        session = self._onnx()
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in {i.name for i in session.get_inputs()}:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        vectors: np.ndarray = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return vectors

    def embed(self, texts: list[str], *, max_tokens: int = MAX_TOKENS) -> np.ndarray:
        """Vectors for `texts`, shape (n, 384). Sorting by length keeps padding small;
        `max_tokens` is MAX_TOKENS or the document limit given at construction."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            out[chunk] = self._embed_batch([texts[i] or " " for i in chunk], max_tokens)
        return out

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = self.embed(list(texts), max_tokens=self.document_max_tokens).tolist()
        return vectors

    def embed_query(self, text: str) -> list[float]:
        """One query's vector; the last few are kept, because understanding a message and
        retrieving for it embed the same text once."""
        with self._recent_lock:
            cached = self._recent.get(text)
            if cached is not None:
                self._recent.move_to_end(text)
                return cached
        vector: list[float] = self.embed([text])[0].tolist()
        with self._recent_lock:
            self._recent[text] = vector
            while len(self._recent) > RECENT_QUERIES:
                self._recent.popitem(last=False)
        return vector


def _tokenizer(model_dir: Path, max_tokens: int) -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_tokens)
    tokenizer.no_padding()
    return tokenizer


_shared: dict[tuple[Path, int, int, int], MiniLMEmbeddings] = {}
_shared_lock = threading.Lock()


def shared_embeddings(
    model_dir: Path, *, batch_size: int = 64, threads: int = 0, document_max_tokens: int = MAX_TOKENS
) -> MiniLMEmbeddings:
    """One model instance per process and configuration (loading costs ~0.4 s)."""
    key = (model_dir.resolve(), batch_size, threads, document_max_tokens)
    with _shared_lock:
        if key not in _shared:
            log.info("loading embedding model from %s", model_dir)
            _shared[key] = MiniLMEmbeddings(
                model_dir, batch_size=batch_size, threads=threads, document_max_tokens=document_max_tokens
            )
        return _shared[key]
