"""The knowledge service of a CLI run: one per process and settings, so a command that
first makes sure the map is indexed and then runs a skill opens one database engine and
one live index, not two."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from config import load_settings

if TYPE_CHECKING:
    from knowledge.service import KnowledgeService

_services: dict[int, KnowledgeService] = {}
_lock = threading.Lock()


def knowledge_service() -> KnowledgeService:
    """The service for this process's settings (read once per environment)."""
    from knowledge.service import KnowledgeService

    settings = load_settings()
    with _lock:
        service = _services.get(id(settings))
        if service is None or service.settings is not settings:
            _services.clear()  # one environment per process outside tests: hold one engine
            service = _services[id(settings)] = KnowledgeService(settings)
        return service
