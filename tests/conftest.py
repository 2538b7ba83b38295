"""Shared fixtures: settings from a dict, real databases (SQLite and PostgreSQL), the
real embedding model and real Chroma (a local directory or a server on 127.0.0.1)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from config import Settings
from config.settings import DEFAULT_MODEL_DIR
from knowledge.embeddings import MiniLMEmbeddings, shared_embeddings
from knowledge.model_files import check_model_dir
from storage.engine import make_engine

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SAMPLE_MAP = ROOT / "knowledge" / "data" / "sample_map.yaml"
MINI_MAP = DATA / "mini_map.yaml"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_URL = os.environ.get("JOURNEYBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def model_dir() -> Path:
    folder = Path(os.environ.get("JOURNEYBOT_EMBEDDING_MODEL_DIR", str(DEFAULT_MODEL_DIR)))
    bad = [c for c in check_model_dir(folder) if not c.ok]
    if bad:
        pytest.fail(f"embedding model files missing in {folder}: run `make model` first ({bad[0].problem})")
    return folder


@pytest.fixture(scope="session")
def embeddings(model_dir: Path) -> MiniLMEmbeddings:
    return shared_embeddings(model_dir)


@pytest.fixture
def make_settings(tmp_path: Path, model_dir: Path) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"data_dir": tmp_path / "state", "embedding_model_dir": model_dir, "journey_map_path": MINI_MAP}
        values.update(overrides)
        return Settings.from_mapping(values)

    return build


@pytest.fixture(autouse=True)
def _slack_caches_start_empty() -> Iterator[None]:
    """Per-process caches of Slack answers (owners by email, time zones) are keyed by the
    stand-in's URL, and a later stand-in may get a closed one's port: every test starts empty."""
    from bot import owners, time_zones

    owners.clear_cache()
    time_zones.clear_cache()
    yield


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    url = make_url(POSTGRES_URL)
    try:
        engine = make_engine(url.render_as_string(hide_password=False))
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001
        message = f"PostgreSQL at {url.render_as_string()} is not reachable: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return url.render_as_string(hide_password=False)


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh database for one test, dropped afterwards."""
    name = f"jb_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(postgres_admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jb.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real Chroma server (chromadb's own `chroma run`) on 127.0.0.1."""
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if chroma is None:
        pytest.fail("the `chroma` command (from chromadb) is not installed")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = (path / "server.log").open("w")
    process = subprocess.Popen(
        [chroma, "run", "--path", str(path / "data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"chroma server exited: {(path / 'server.log').read_text()[-2000:]}")
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("chroma server did not start within 60 s")
    yield "127.0.0.1", port
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="session")
def sample_service(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Any:
    """The sample map indexed once into a local Chroma + SQLite for the whole session."""
    from knowledge.service import KnowledgeService

    settings = Settings.from_mapping(
        {"data_dir": tmp_path_factory.mktemp("sample"), "embedding_model_dir": model_dir, "journey_map_path": SAMPLE_MAP}
    )
    service = KnowledgeService(settings)
    service.index()
    return service
