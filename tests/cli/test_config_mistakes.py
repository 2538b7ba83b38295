"""Configuration mistakes end in one line naming the setting or path, a non-zero exit and
nothing written: the real `journeybot` console script in a subprocess, as a user runs it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import free_port

JOURNEYBOT = Path(sys.executable).parent / "journeybot"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(32)


def run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not (k.startswith("JOURNEYBOT_") or k == "DATABASE_URL")}
    base.update(env)
    return subprocess.run([str(JOURNEYBOT), *args], env=base, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@contextmanager
def listening() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """chmod 555; as root (where mode bits do not bind) also the immutable attribute."""
    folder.mkdir(parents=True)
    folder.chmod(0o555)
    immutable = False
    if os.access(folder, os.W_OK) and shutil.which("chattr"):
        immutable = subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("cannot make a folder read-only here (root without chattr)")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=False)
        folder.chmod(0o755)


# (case id, extra environment, arguments, words the one line must contain, exit code)
CASES = [
    ("database-url-garbage", {"DATABASE_URL": "garbage"}, ["ask", "what do I send a CFO?"],
     ["DATABASE_URL", "postgresql+psycopg://"], 2),
    ("database-unreachable", {"DATABASE_URL": "postgresql://jb:secret@127.0.0.1:{closed}/jb"},
     ["ask", "what do I send a CFO?"], ["DATABASE_URL", "cannot reach the database", "jb:***@"], 1),
    ("heroku-form-unreachable", {"DATABASE_URL": "postgres://jb:secret@127.0.0.1:{closed}/jb"},
     ["gaps"], ["DATABASE_URL", "postgresql+psycopg://jb:***@127.0.0.1"], 1),
    ("data-dir-read-only", {"JOURNEYBOT_DATA_DIR": "{readonly}"}, ["ask", "what do I send a CFO?"],
     ["JOURNEYBOT_DATA_DIR", "read-only"], 2),
    ("top-k-not-a-number", {"JOURNEYBOT_RETRIEVAL_TOP_K": "five"}, ["ask", "what do I send a CFO?"],
     ["JOURNEYBOT_RETRIEVAL_TOP_K", "'five'", "integer"], 2),
    ("log-level-unknown", {"JOURNEYBOT_LOG_LEVEL": "verbose"}, ["stages"],
     ["JOURNEYBOT_LOG_LEVEL", "'verbose'", "WARNING"], 2),
    ("map-is-a-png", {"JOURNEYBOT_JOURNEY_MAP_PATH": "{png}"}, ["index"],
     ["JOURNEYBOT_JOURNEY_MAP_PATH", "logo.png", "PNG image"], 1),
    ("map-is-a-png-validate", {"JOURNEYBOT_JOURNEY_MAP_PATH": "{png}"}, ["validate"],
     ["JOURNEYBOT_JOURNEY_MAP_PATH", "logo.png", "PNG image"], 1),
    ("map-is-a-png-subscribe", {"JOURNEYBOT_JOURNEY_MAP_PATH": "{png}"}, ["subscribe", "C0MKT", "gaps", "--stage", "decision"],
     ["JOURNEYBOT_JOURNEY_MAP_PATH", "logo.png", "PNG image"], 2),
    ("sandbox-port-in-use", {}, ["sandbox", "--port", "{busy}"], ["--port", "already in use"], 2),
    ("blank-question", {}, ["ask", "   "], ["ask needs a question"], 2),
    ("socket-mode-without-app-token", {"JOURNEYBOT_SLACK_BOT_TOKEN": "xoxb-0-0"}, ["slack", "socket"],
     ["JOURNEYBOT_SLACK_APP_TOKEN", "docs/slack.md"], 2),
    ("slack-worker-without-bot-token", {"DATABASE_URL": "postgresql://jb:secret@127.0.0.1:{closed}/jb"},
     ["slack", "worker"], ["JOURNEYBOT_SLACK_BOT_TOKEN", "docs/slack.md"], 2),
    ("socket-mode-without-bot-token", {"JOURNEYBOT_SLACK_APP_TOKEN": "xapp-0-0"}, ["slack", "socket"],
     ["JOURNEYBOT_SLACK_BOT_TOKEN", "docs/slack.md"], 2),
]


@pytest.mark.parametrize(("case", "env", "args", "words", "code"), CASES, ids=[c[0] for c in CASES])
def test_a_mistake_is_one_line(case: str, env: dict[str, str], args: list[str], words: list[str], code: int,
                               tmp_path: Path) -> None:
    data_dir = tmp_path / "state"
    png = tmp_path / "logo.png"
    png.write_bytes(PNG)
    work = tmp_path / "work"
    work.mkdir()
    with listening() as busy:
        values = {"closed": str(free_port()), "readonly": str(data_dir), "png": str(png), "busy": str(busy)}
        environment = {"JOURNEYBOT_DATA_DIR": str(data_dir), **{k: v.format(**values) for k, v in env.items()}}
        argv = [a.format(**values) for a in args]
        if case == "data-dir-read-only":
            with read_only(data_dir):
                result = run(argv, environment, work)
            assert list(data_dir.iterdir()) == []
        else:
            result = run(argv, environment, work)
            assert not data_dir.exists(), "nothing may be written"
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, result.stderr
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert "secret" not in result.stderr + result.stdout
    assert list(work.iterdir()) == [], "nothing in the working directory"


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = run(["--debug", "ask", "hi"], {"DATABASE_URL": "garbage", "JOURNEYBOT_DATA_DIR": str(tmp_path / "s")},
                 tmp_path)
    assert result.returncode == 2 and "Traceback" in result.stderr and "DATABASE_URL" in result.stderr


def test_help_works_with_a_broken_setting(tmp_path: Path) -> None:
    for args in (["--help"], ["ask", "--help"], ["gaps", "--help"]):
        result = run(args, {"JOURNEYBOT_RETRIEVAL_TOP_K": "five"}, tmp_path)
        assert result.returncode == 0 and "Usage" in result.stdout, result.stderr


def test_heroku_database_url_is_accepted(postgres_url: str, tmp_path: Path) -> None:
    heroku = postgres_url.replace("postgresql+psycopg://", "postgres://")
    env = {"DATABASE_URL": heroku, "JOURNEYBOT_DATA_DIR": str(tmp_path / "state")}
    where = run(["where"], env, tmp_path)
    assert where.returncode == 0 and "postgresql+psycopg://" in where.stdout
    upgraded = run(["db", "upgrade"], env, tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "database at revision" in upgraded.stderr


def test_a_missing_model_after_indexing_is_one_line_naming_the_setting(tmp_path: Path, model_dir: Path) -> None:
    """The index exists, the model folder does not: `ask` fails at its first embedding,
    inside the skill, and says so in one line (it used to log a traceback there)."""
    env = {"JOURNEYBOT_DATA_DIR": str(tmp_path / "state"), "JOURNEYBOT_EMBEDDING_MODEL_DIR": str(model_dir)}
    assert run(["index"], env, tmp_path).returncode == 0
    result = run(["ask", "what do I send a CFO?"],
                 {**env, "JOURNEYBOT_EMBEDDING_MODEL_DIR": str(tmp_path / "no-model")}, tmp_path)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith("JOURNEYBOT_EMBEDDING_MODEL_DIR:") and "make model" in lines[0]


def test_a_skill_on_a_broken_map_says_what_is_wrong_with_it(tmp_path: Path) -> None:
    """Not "failed unexpectedly" with an error id: the map's problem, as `validate` words it."""
    png = tmp_path / "logo.png"
    png.write_bytes(PNG)
    result = run(["gaps"], {"JOURNEYBOT_DATA_DIR": str(tmp_path / "state"), "JOURNEYBOT_JOURNEY_MAP_PATH": str(png)}, tmp_path)
    assert result.returncode == 2, result.stderr
    assert "logo.png" in result.stderr and "PNG image" in result.stderr and "unexpectedly" not in result.stderr
