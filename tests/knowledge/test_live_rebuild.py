"""A process that finds the live release's collection missing rebuilds it from the map
stored with the release: once, under a lock, with a log line."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from config import Settings
from knowledge.live import LiveIndex
from knowledge.service import KnowledgeService
from tests.conftest import MINI_MAP

JOURNEYBOT = Path(sys.executable).parent / "journeybot"
QUESTION = "CFO wants to know the return on investment"


def _cli(args: list[str], data_dir: Path, model_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not (k.startswith("JOURNEYBOT_") or k == "DATABASE_URL")}
    env.update(JOURNEYBOT_DATA_DIR=str(data_dir), JOURNEYBOT_EMBEDDING_MODEL_DIR=str(model_dir),
               JOURNEYBOT_JOURNEY_MAP_PATH=str(MINI_MAP))
    return subprocess.run([str(JOURNEYBOT), *args], env=env, capture_output=True, text=True, timeout=120,
                          cwd=data_dir.parent)


def test_deleted_chroma_folder_is_rebuilt_once(tmp_path: Path, model_dir: Path) -> None:
    data_dir = tmp_path / "state"
    assert _cli(["index"], data_dir, model_dir).returncode == 0
    shutil.rmtree(data_dir / "chroma")
    first = _cli(["ask", QUESTION, "--json"], data_dir, model_dir)
    assert first.returncode == 0, first.stderr
    answer = json.loads(first.stdout)
    assert answer["answered"] and answer["sources"][0]["ref_id"] == "as-roi-calculator"
    assert first.stderr.count("was missing: rebuilt it from the map stored with release") == 1
    again = _cli(["ask", QUESTION, "--json"], data_dir, model_dir)
    assert again.returncode == 0 and "rebuilt" not in again.stderr


def test_another_container_rebuilds_from_the_shared_database(
    postgres_url: str, tmp_path: Path, model_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`release` indexed in its own container; `web` and `worker` (own folders, same
    PostgreSQL) ask at the same moment: the collection is rebuilt once and both answer."""
    def settings(name: str) -> Settings:
        return Settings.from_mapping({"data_dir": tmp_path / name, "database_url": postgres_url,
                                      "embedding_model_dir": model_dir, "journey_map_path": MINI_MAP})

    KnowledgeService(settings("release")).index()
    web = KnowledgeService(settings("web"))
    twins = [LiveIndex(web.settings, web.engine, lambda: web.embeddings) for _ in range(2)]  # two processes, one folder
    caplog.set_level(logging.WARNING, logger="knowledge.indexing")
    barrier = threading.Barrier(len(twins))
    maps: list[str] = []

    def ask(live: LiveIndex) -> None:
        barrier.wait()
        maps.append(live.current().retriever.journey_map.name)  # the retriever needs the collection

    threads = [threading.Thread(target=ask, args=(live,)) for live in twins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(maps) == 2
    assert sum("was missing: rebuilt" in r.getMessage() for r in caplog.records) == 1
    answer = web.asker.ask(QUESTION)
    assert answer.answered and answer.sources[0].ref_id == "as-roi-calculator"


def test_a_collection_left_half_built_is_built_again(postgres_url: str, tmp_path: Path, model_dir: Path) -> None:
    """A process killed while it rebuilt leaves a collection with too few units: the next
    reader does not take it as whole (it would refuse to answer from it) but builds it again."""
    from knowledge.live import ensure_collection
    from knowledge.vectorstore import chroma_client
    from storage.engine import session_scope
    from storage.index_release import fetch_active_release

    def settings(name: str) -> Settings:
        return Settings.from_mapping({"data_dir": tmp_path / name, "database_url": postgres_url,
                                      "embedding_model_dir": model_dir, "journey_map_path": MINI_MAP})

    KnowledgeService(settings("release")).index()
    web = KnowledgeService(settings("web"))
    with session_scope(web.engine) as session:
        release = fetch_active_release(session, web.settings.chroma_collection_prefix)
    assert release is not None
    client = chroma_client(web.settings)
    client.create_collection(release.collection).add(ids=["u1"], embeddings=[[0.1] * 384], documents=["half"])
    whole = ensure_collection(web.settings, web.engine, release, web.embeddings)
    assert whole.count() == release.unit_count
    assert web.asker.ask(QUESTION).sources[0].ref_id == "as-roi-calculator"
