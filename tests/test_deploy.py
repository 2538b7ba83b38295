"""The Procfile deployed as separate OS processes (issue #12): each process has its own
working directory and data dir and shares only the PostgreSQL database (and, in the
second run, a Chroma server). `release` runs first; then `web` (gunicorn), `worker` and
`clock` start side by side against the HubSpot sandbox process and the Slack stand-in.

The commands are read from the Procfile itself, so a broken Procfile breaks this test.
The mini map keeps it quick: the wiring between the processes is under test here, the
cost of indexing the sample map is in the benchmarks.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest

from sandbox.slack_api import SlackStandIn
from storage.engine import make_engine, session_scope
from storage.subscriptions import Subscription, add_subscription, list_runs
from tests.bot.conftest import BOT_TOKEN, SIGNING_SECRET, sign
from tests.conftest import MINI_MAP, ROOT, free_port

PROCFILE = ROOT / "Procfile"
BIN = Path(sys.executable).parent
HUBSPOT_TOKEN = "deploy-sandbox-token"
DEADLINE_S = 90.0  # per wait; the whole test normally takes well under a minute


def procfile() -> dict[str, str]:
    """`name: command` lines, as a platform reads them."""
    processes: dict[str, str] = {}
    for line in PROCFILE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            processes[name.strip()] = command.strip()
    return processes


@dataclass
class Deployment:
    """The processes of one deploy, each in a folder of its own."""

    root: Path
    shared_env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def env(self, name: str, **extra: str) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not (k.startswith("JOURNEYBOT_") or k == "DATABASE_URL")}
        return {**inherited, "PATH": f"{BIN}{os.pathsep}{inherited.get('PATH', '')}", **self.shared_env,
                "JOURNEYBOT_DATA_DIR": str(self.folder(name) / "data"), **extra}

    def folder(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def log(self, name: str) -> str:
        path = self.folder(name) / "process.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def run(self, name: str, timeout: float = DEADLINE_S) -> subprocess.CompletedProcess[str]:
        """A one-off process (release), in its folder, through the shell as a platform does."""
        return subprocess.run(["/bin/sh", "-c", procfile()[name]], cwd=self.folder(name), env=self.env(name),
                              capture_output=True, text=True, timeout=timeout)

    def start(self, name: str, **extra: str) -> subprocess.Popen[bytes]:
        with (self.folder(name) / "process.log").open("ab") as log:
            process = subprocess.Popen(["/bin/sh", "-c", "exec " + procfile()[name]], cwd=self.folder(name),
                                       env=self.env(name, **extra), stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.processes[name] = process
        return process

    def alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}:\n{self.log(name)[-3000:]}")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for name, process in self.processes.items():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
                raise AssertionError(f"{name} did not stop on SIGTERM:\n{self.log(name)[-2000:]}") from None


def wait_until(condition: Callable[[], bool], what: str, deployment: Deployment, timeout: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deployment.alive()
        if condition():
            return
        time.sleep(0.2)
    logs = "\n".join(f"--- {n}\n{deployment.log(n)[-2000:]}" for n in deployment.processes)
    raise AssertionError(f"{what} did not happen within {timeout:.0f}s\n{logs}")


@pytest.fixture(scope="module")
def hubspot() -> Iterator[str]:
    """The HubSpot sandbox as a process of its own (`python -m sandbox`)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", str(port), "--token", HUBSPOT_TOKEN,
                                "--rate", "none"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    ready = process.stdout.readline()
    assert ready.startswith("READY "), ready
    yield ready.split()[1]
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    server = SlackStandIn(clock=time.time).start()
    yield server
    server.stop()


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def workers_registered(database_url: str) -> int:
    import psycopg

    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        exists = connection.execute("SELECT to_regclass('procrastinate_workers')").fetchone()
        if not exists or exists[0] is None:
            return 0
        row = connection.execute("SELECT count(*) FROM procrastinate_workers").fetchone()
        return int(row[0]) if row else 0


def slash_command(url: str, slack: SlackStandIn, text: str) -> int:
    form = {"command": "/journey", "text": text, "channel_id": "C0DEPLOY", "user_id": "U0REP", "team_id": "T0TEST",
            "user_name": "rep", "channel_name": "sales", "response_url": slack.response_url("deploy"),
            "trigger_id": "1.2.3", "api_app_id": "A0JOURNEY"}
    body = urlencode(form).encode()
    timestamp = int(time.time())
    request = urllib.request.Request(url + "/slack/events", data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": sign(body, timestamp)})
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def due_digest(database_url: str, channel: str) -> Subscription:
    """A weekly digest created eight days ago: its latest Monday 09:00 is owed now."""
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            subscription = add_subscription(session, channel_id=channel, kind="digest", cron="0 9 * * mon")
            subscription.created_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=8)
            session.add(subscription)
            session.flush()
            session.expunge(subscription)
        return subscription
    finally:
        engine.dispose()


@pytest.mark.parametrize("chroma", ["local", "server"])
def test_the_procfile_deploys_as_separate_processes(
    chroma: str, request: pytest.FixtureRequest, postgres_url: str, model_dir: Path, hubspot: str,
    slack: SlackStandIn, tmp_path: Path,
) -> None:
    shared = {
        "DATABASE_URL": postgres_url, "JOURNEYBOT_EMBEDDING_MODEL_DIR": str(model_dir),
        "JOURNEYBOT_SLACK_BOT_TOKEN": BOT_TOKEN, "JOURNEYBOT_SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "JOURNEYBOT_SLACK_API_BASE_URL": slack.base_url, "JOURNEYBOT_HUBSPOT_ACCESS_TOKEN": HUBSPOT_TOKEN,
        "JOURNEYBOT_HUBSPOT_BASE_URL": hubspot, "JOURNEYBOT_LOG_LEVEL": "INFO", "JOURNEYBOT_JOURNEY_MAP_PATH": str(MINI_MAP),
    }
    if chroma == "server":
        host, port = request.getfixturevalue("chroma_server")
        shared.update(JOURNEYBOT_CHROMA_HOST=host, JOURNEYBOT_CHROMA_PORT=str(port),
                      JOURNEYBOT_CHROMA_COLLECTION_PREFIX=f"deploy{uuid.uuid4().hex[:6]}")
    deployment = Deployment(tmp_path, shared)

    release = deployment.run("release")
    assert release.returncode == 0, release.stdout + release.stderr

    channel = f"C{uuid.uuid4().hex[:9].upper()}"
    subscription = due_digest(postgres_url, channel)
    web_port = free_port()
    try:
        deployment.start("web", PORT=str(web_port))
        deployment.start("worker")
        deployment.start("clock")
        web = f"http://127.0.0.1:{web_port}"
        wait_until(lambda: healthy(web), "web answering /healthz", deployment)
        wait_until(lambda: workers_registered(postgres_url) >= 1, "the worker registering", deployment)

        assert slash_command(web, slack, "ask CFO keeps asking about ROI, what do I send?") == 200
        wait_until(lambda: any("ROI calculator" in str(c["params"]) for c in slack.of("response_url")),
                   "the worker's answer reaching Slack", deployment)

        def digest_posted() -> bool:
            return any(c["params"].get("channel") == channel for c in slack.of("chat.postMessage"))

        wait_until(digest_posted, "the clock's digest reaching Slack", deployment)
        digest = next(c["params"] for c in slack.of("chat.postMessage") if c["params"].get("channel") == channel)
        assert digest["metadata"]["event_type"] == "journeybot_run", digest  # the scheduled run's post
        engine = make_engine(postgres_url)
        with session_scope(engine) as session:
            runs = list_runs(session, subscription.id or 0)
        engine.dispose()
        assert [r.state for r in runs] == ["posted"]
        deployment.alive()
        # With a Chroma folder per process, web (two gunicorn workers, one folder) and worker
        # each rebuild the release once; the clock needs only the map and rebuilds nothing.
        # With the shared server nobody rebuilds: `release` indexed into it.
        rebuilds = {name: deployment.log(name).count("was missing: rebuilt") for name in ("web", "worker", "clock")}
        expected = {"web": 1, "worker": 1, "clock": 0} if chroma == "local" else {"web": 0, "worker": 0, "clock": 0}
        assert rebuilds == expected
    finally:
        deployment.stop()
