"""The release's vector snapshot: a later process answers from it without chromadb, a
retired release's snapshot goes with its collection, and the exact numpy search finds
what Chroma finds."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from config import Settings
from knowledge import unit_vectors
from knowledge.service import KnowledgeService
from knowledge.vectorstore import chroma_client, open_collection
from tests.conftest import MINI_MAP, ROOT

QUESTION = "CFO wants to know the return on investment"

# A fresh process on the same data dir: answers, and reports whether chromadb was imported.
_SECOND_PROCESS = """
import json, sys
from config import Settings
from knowledge.service import KnowledgeService
settings = Settings.from_mapping(json.loads(sys.argv[1]))
answer = KnowledgeService(settings).asker.ask(sys.argv[2])
print(json.dumps({"answered": answer.answered, "first": answer.sources[0].ref_id,
                  "chromadb": sorted(m for m in sys.modules if m.split(".")[0] == "chromadb")}))
"""


def _ask_in_new_process(settings: Settings, question: str) -> dict[str, Any]:
    values = {"data_dir": str(settings.data_dir), "embedding_model_dir": str(settings.embedding_model_dir),
              "journey_map_path": str(settings.journey_map_path)}
    done = subprocess.run([sys.executable, "-c", _SECOND_PROCESS, json.dumps(values), question],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_a_later_process_answers_from_the_snapshot_without_chromadb(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    service = KnowledgeService(settings)
    release = service.index(MINI_MAP).collection
    first = _ask_in_new_process(settings, QUESTION)  # reads the collection once, keeps the snapshot
    assert first["answered"] and first["first"] == "as-roi-calculator"
    assert first["chromadb"], "the first reader has to read Chroma"
    assert unit_vectors.snapshot_path(settings.vectors_dir, release).exists()
    second = _ask_in_new_process(settings, QUESTION)
    assert second == {"answered": True, "first": "as-roi-calculator", "chromadb": []}


def test_a_retired_release_loses_its_snapshot(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    service = KnowledgeService(make_settings())
    folder = service.settings.vectors_dir
    text = MINI_MAP.read_text()
    releases: list[str] = []
    for n in range(4):
        path = tmp_path / f"edited-{n}.yaml"
        path.write_text(text.replace("Benchmark survey of 400 revenue teams", f"Benchmark survey of {500 + n} revenue teams"))
        releases.append(service.index(path).collection)
        assert service.asker.ask(QUESTION).answered  # the live release's snapshot is written
        assert unit_vectors.snapshot_path(folder, releases[-1]).exists()
    kept = {p.name for p in folder.iterdir()}
    assert kept == {unit_vectors.snapshot_path(folder, name).name for name in releases[-2:]}


def test_dense_search_finds_what_chroma_finds(sample_service: KnowledgeService) -> None:
    state = sample_service.live.current()
    retriever = state.retriever
    collection = open_collection(chroma_client(sample_service.settings), state.release.collection)
    assert collection is not None
    questions = ["CFO keeps asking about ROI, what do I send?", "security review is blocking the deal",
                 "how long does onboarding take", "champion needs a business case for the board"]
    filters: list[tuple[str, str | None, dict[str, Any]]] = [
        ("asset", None, {"kind": "asset"}),
        ("question", None, {"kind": "question"}),
        ("stage", None, {"kind": "stage"}),
        ("asset", "decision", {"$and": [{"kind": "asset"}, {"stage_decision": True}]}),
    ]
    assert any(s.id == "decision" for s in state.journey_map.stages)
    for question in questions:
        vector = sample_service.embeddings.embed_query(question)
        for kind, stage_id, where in filters:
            ours = retriever.vectors.search(vector, 5, kind, stage_id)
            theirs = collection.query(query_embeddings=[vector], n_results=5, where=where, include=["distances"])
            assert list(ours) == theirs["ids"][0], (question, kind, stage_id)
            distances = (theirs["distances"] or [[]])[0]
            for score, distance in zip(ours.values(), distances, strict=True):
                assert abs(score - (1.0 - distance)) < 1e-4
