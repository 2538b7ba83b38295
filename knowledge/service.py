"""The knowledge side assembled from settings: database, embeddings, live index, asker.

Entry points (CLI, Slack, scheduler, tests) build one `KnowledgeService` and pass it
down; nothing here reads the environment.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from sqlalchemy.engine import Engine

from config import Settings
from knowledge.asking import Asker
from knowledge.embeddings import MiniLMEmbeddings, shared_embeddings
from knowledge.indexing import IndexReport, Progress, index_map
from knowledge.live import LiveIndex
from knowledge.llm import build_chat_model
from knowledge.validation import ValidatedMap, load_map
from storage.engine import make_engine
from storage.migrate import upgrade_database


class KnowledgeService:
    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self._engine = engine

    @cached_property
    def engine(self) -> Engine:
        engine = self._engine or make_engine(self.settings.database_url)
        upgrade_database(engine)
        return engine

    @cached_property
    def embeddings(self) -> MiniLMEmbeddings:
        return shared_embeddings(
            self.settings.embedding_model_dir,
            batch_size=self.settings.embedding_batch_size,
            threads=self.settings.embedding_threads,
            document_max_tokens=self.settings.embedding_document_max_tokens,
        )

    @cached_property
    def live(self) -> LiveIndex:
        return LiveIndex(self.settings, self.engine, self.embeddings)

    @cached_property
    def asker(self) -> Asker:
        return Asker(self.live, self.engine, build_chat_model(self.settings), self.settings.retrieval_top_k)

    def validate(self, path: Path | None = None) -> ValidatedMap:
        return load_map(path or self.settings.journey_map_path)

    def index(self, path: Path | None = None, *, progress: Progress | None = None, force: bool = False) -> IndexReport:
        """Validate, then index; an invalid map raises before Chroma is touched, so the
        last good release stays live."""
        validated = self.validate(path)
        return index_map(self.settings, self.engine, validated.journey_map, self.embeddings, progress=progress, force=force)
