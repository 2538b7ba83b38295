"""The knowledge service of a CLI run: one per process and settings, so a command that
first makes sure the map is indexed and then runs a skill opens one database engine and
one live index, not two."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from config import load_settings

if TYPE_CHECKING:
    from knowledge.service import KnowledgeService

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
