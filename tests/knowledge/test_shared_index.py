"""Indexes that share things (issue #11 items 15 and 16): deployments (one database each)
sharing one Chroma folder or server never drop each other's collections, and processes
that find no index at the same moment build it once while the others wait."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from config import Settings
from knowledge.service import KnowledgeService
from knowledge.vectorstore import chroma_client, collection_names, open_collection
from skills.context import SkillContext
from storage.engine import session_scope
from storage.index_release import list_releases
from tests.conftest import MINI_MAP

QUESTION = "CFO wants to know the return on investment"


def edited(tmp_path: Path, n: int) -> Path:
    """The mini map with one asset title changed: a new release each time."""
    text = MINI_MAP.read_text()
    old = "Benchmark survey of 400 revenue teams"
    assert old in text
    path = tmp_path / f"edited-{n}.yaml"
    path.write_text(text.replace(old, f"Benchmark survey of {500 + n} revenue teams"))
    return path


@pytest.fixture(params=["path", "server"])
def shared_chroma(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """One Chroma for two deployments, with one collection prefix (the default on a folder)."""
    if request.param == "server":
        host, port = request.getfixturevalue("chroma_server")
        return {"chroma_host": host, "chroma_port": port, "chroma_collection_prefix": f"s{tmp_path.name[-12:].replace('_', '')}"}
    return {"chroma_path": tmp_path / "shared-chroma"}


def test_deployments_sharing_a_chroma_never_drop_each_others_collections(
    make_settings: Callable[..., Settings], shared_chroma: dict[str, Any], tmp_path: Path
) -> None:
    first = KnowledgeService(make_settings(data_dir=tmp_path / "first", **shared_chroma))
    second = KnowledgeService(make_settings(data_dir=tmp_path / "second", **shared_chroma))
    assert first.settings.database_url != second.settings.database_url
    second_live = second.index(MINI_MAP).collection
    first_releases = [first.index(MINI_MAP).collection]
    first_releases += [first.index(edited(tmp_path, n)).collection for n in range(3)]  # each retires older ones

    client = chroma_client(first.settings)
    present = set(collection_names(client, first.settings.chroma_collection_prefix))
    assert second_live in present  # the other deployment's live collection survived four releases
    assert set(first_releases[-2:]) <= present and not set(first_releases[:-2]) & present  # own retirement still works
    answer = second.asker.ask(QUESTION)
    assert answer.answered and answer.sources[0].ref_id == "as-roi-calculator"
    again = second.index(MINI_MAP)
    assert again.unchanged and again.collection == second_live and again.embedded == 0  # nothing had to be rebuilt


@pytest.mark.parametrize("layout", ["sqlite-one-folder", "postgresql-own-folders"])
def test_processes_finding_no_index_build_it_once(
    layout: str, make_settings: Callable[..., Settings], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Two scheduled runs start at once on a database with no index: one builds, the other
    waits for it and reads the same release (a process with a Chroma folder of its own
    fills that folder with the same release, it makes no second one)."""
    if layout == "sqlite-one-folder":
        settings = [make_settings(data_dir=tmp_path / "shared") for _ in range(2)]
    else:
        url = request.getfixturevalue("postgres_url")
        settings = [make_settings(data_dir=tmp_path / f"process{n}", database_url=url) for n in range(2)]
    services = [KnowledgeService(s) for s in settings]
    for service in services:
        service.engine  # noqa: B018 - migrate first: the race under test is the index build
    barrier = threading.Barrier(len(services))
    collections: list[str] = []
    errors: list[BaseException] = []

    def scheduled_run(service: KnowledgeService) -> None:
        try:
            barrier.wait()
            SkillContext(service.settings, service).journey_map  # noqa: B018 - builds the index when none exists
            collections.append(service.live.current().release.collection)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=scheduled_run, args=(service,)) for service in services]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    with session_scope(services[0].engine) as session:
        releases = list_releases(session, settings[0].chroma_collection_prefix)
    assert len(releases) == 1, [r.collection for r in releases]
    assert collections == [releases[0].collection] * 2
    for service in services:  # each process's Chroma holds the one release
        assert open_collection(chroma_client(service.settings), releases[0].collection) is not None
