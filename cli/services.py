"""The knowledge service of a CLI run: one per process and settings, so a command that
first makes sure the map is indexed and then runs a skill opens one database engine and
one live index, not two."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from config import load_settings

if TYPE_CHECKING:
    from knowledge.service import KnowledgeService

log = logging.getLogger(__name__)

_service: KnowledgeService | None = None
_lock = threading.Lock()


def knowledge_service() -> KnowledgeService:
    """The service for this process's settings (read once per environment; a test that
    changes the environment gets a service for the new settings)."""
    from knowledge.service import KnowledgeService

    global _service
    settings = load_settings()
    with _lock:
        if _service is None or _service.settings is not settings:
            _service = KnowledgeService(settings)
        return _service


def embed_ahead(text: str) -> threading.Thread:
    """Open the embedding model and embed `text` on a thread of its own while the command
    imports and opens the rest. Creating the ONNX session (0.2-0.3 s of a cold `ask`) is
    native code that runs on the second core beside the imports; the vector then waits in
    the model's recent-queries cache. A failure here is left for the command itself to meet
    and report in its one line."""
    settings = load_settings()

    def run() -> None:
        try:
            from knowledge.embeddings import embeddings_for

            embeddings_for(settings).embed_query(text)
        except Exception:  # noqa: BLE001 - the command's own call reports it
            log.debug("embedding ahead failed; the command will load the model itself", exc_info=True)

    thread = threading.Thread(target=run, name="embed-ahead", daemon=True)
    thread.start()
    return thread
