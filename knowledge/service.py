"""The knowledge side assembled from settings: database, embeddings, live index, asker.

Entry points (CLI, Slack, scheduler, tests) build one `KnowledgeService` and pass it
down; nothing here reads the environment. Parts are imported when first used: a CLI
command that never indexes or calls an LLM does not pay for langchain's imports.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from config import Settings
from knowledge.validation import ValidatedMap, load_map

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from knowledge.asking import Asker
    from knowledge.embeddings import MiniLMEmbeddings
    from knowledge.indexing import IndexReport, Progress
    from knowledge.live import LiveIndex


class KnowledgeService:
    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self._engine = engine

    @cached_property
    def engine(self) -> Engine:
        # Imported here: a cold `ask` loads SQLAlchemy while the embedding model opens.
        from storage.engine import make_engine
        from storage.migrate import upgrade_database

        engine = self._engine or make_engine(self.settings.database_url)
        upgrade_database(engine)
        return engine

    @cached_property
    def embeddings(self) -> MiniLMEmbeddings:
        from knowledge.embeddings import shared_embeddings

        return shared_embeddings(
            self.settings.embedding_model_dir,
            batch_size=self.settings.embedding_batch_size,
            threads=self.settings.embedding_threads,
            document_max_tokens=self.settings.embedding_document_max_tokens,
        )

    @cached_property
    def live(self) -> LiveIndex:
        from knowledge.live import LiveIndex

        return LiveIndex(self.settings, self.engine, lambda: self.embeddings)

    @cached_property
    def asker(self) -> Asker:
        from knowledge.asking import Asker

        chat = None
        if self.settings.llm_enabled:
            from knowledge.llm import build_chat_model

            chat = build_chat_model(self.settings)
        return Asker(self.live, self.engine, chat, self.settings.retrieval_top_k,
                     llm_timeout_s=self.settings.llm_timeout_s)

    def validate(self, path: Path | None = None) -> ValidatedMap:
        return load_map(path or self.settings.journey_map_path)

    def index(self, path: Path | None = None, *, progress: Progress | None = None, force: bool = False,
              validated: ValidatedMap | None = None) -> IndexReport:
        """Validate (unless `validated` is given), then index; an invalid map raises before
        Chroma is touched, so the last good release stays live."""
        from knowledge.indexing import index_map

        validated = validated or self.validate(path)
        return index_map(self.settings, self.engine, validated.journey_map, self.embeddings, progress=progress, force=force)
