"""Indexing into real Chroma (a local directory, and a Chroma server on 127.0.0.1):
incremental, atomic, and never from an invalid map."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from config import Settings
from knowledge.live import LiveState
from knowledge.service import KnowledgeService
from knowledge.validation import MapValidationError
from knowledge.vectorstore import chroma_client, collection_names
from storage.engine import session_scope
from storage.index_release import list_releases

MINI = Path(__file__).resolve().parent.parent / "data" / "mini_map.yaml"


@pytest.fixture(params=["local", "server"])
def settings(request: pytest.FixtureRequest, make_settings: Callable[..., Settings], tmp_path: Path) -> Settings:
    if request.param == "server":
        host, port = request.getfixturevalue("chroma_server")
        # a unique prefix keeps tests apart on the shared server
        return make_settings(chroma_host=host, chroma_port=port, chroma_collection_prefix=f"t{tmp_path.name[-12:].replace('_', '')}")
    return make_settings()


def edited_map(tmp_path: Path, old: str, new: str) -> Path:
    text = MINI.read_text()
    assert old in text
    path = tmp_path / "edited.yaml"
    path.write_text(text.replace(old, new))
    return path


def test_index_then_unchanged_then_incremental(settings: Settings, tmp_path: Path) -> None:
    service = KnowledgeService(settings)
    first = service.index(MINI)
    # 3 stages, 5 questions, 3 assets, 2 personas, 1 touchpoint, and 20 short example texts
    # (stage goals, emotions, triggers; persona KPIs, pains, motivations) that inference learns from
    assert not first.unchanged and first.embedded == first.units == 34
    client = chroma_client(settings)
    assert client.get_collection(first.collection).count() == first.units

    again = service.index(MINI)
    assert again.unchanged and again.collection == first.collection and again.embedded == 0

    changed = edited_map(tmp_path, "Benchmark survey of 400 revenue teams", "Benchmark survey of 900 revenue teams")
    third = service.index(changed)
    assert not third.unchanged and third.collection != first.collection
    assert third.embedded == 1 and third.reused == third.units - 1
    assert client.get_collection(third.collection).count() == third.units
    hits = service.live.current().retriever.retrieve("survey of 900 revenue teams").assets
    assert hits[0].unit.ref_id == "as-forecast-report" and "900" in hits[0].unit.text

    fourth = service.index(edited_map(tmp_path, "Benchmark survey of 400", "Benchmark study of 400"))
    live = collection_names(client, settings.chroma_collection_prefix)
    assert fourth.collection in live and third.collection in live and first.collection not in live
    with session_scope(service.engine) as session:
        releases = list_releases(session, settings.chroma_collection_prefix)
    assert [r.active for r in releases] == [True, False, False]


def test_invalid_map_is_never_indexed_and_the_last_good_stays_live(settings: Settings, tmp_path: Path) -> None:
    service = KnowledgeService(settings)
    good = service.index(MINI)
    broken = edited_map(tmp_path, "stages: [decision]\n    personas: [cfo]", "stages: [decison]\n    personas: [cfo]")
    with pytest.raises(MapValidationError):
        service.index(broken)
    state = service.live.current()
    assert state.release.collection == good.collection
    assert collection_names(chroma_client(settings), settings.chroma_collection_prefix) == [good.collection]
    answer = service.asker.ask("CFO wants to know the return on investment")
    assert answer.sources and answer.sources[0].ref_id == "as-roi-calculator"


def test_readers_never_see_half_an_index(settings: Settings, tmp_path: Path) -> None:
    service = KnowledgeService(settings)
    service.index(MINI)
    client = chroma_client(settings)
    seen: list[tuple[str, int, int]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():

                def read(state: LiveState) -> tuple[str, int, int]:
                    assert state.retriever.retrieve("return on investment").assets
                    count = client.get_collection(state.release.collection).count()
                    return state.release.collection, count, state.release.unit_count

                seen.append(service.live.run(read))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(3):
            service.index(edited_map(tmp_path, "400 revenue teams", f"{401 + i} revenue teams"))
        # The reader's first read can outlast all three builds on a loaded machine: let it
        # read the final release too before it stops (what it saw in between is the point).
        final = service.live.current().release.collection
        deadline = time.monotonic() + 30
        while final not in {c for c, _, _ in seen} and not errors and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not errors, errors
    assert len({c for c, _, _ in seen}) >= 2, "the reader should have seen more than one release"
    assert all(count == expected for _, count, expected in seen)
