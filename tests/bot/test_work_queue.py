"""The durable Slack work queue on PostgreSQL, with real processes: the web app acks and
enqueues, `journeybot slack worker` processes answer; a worker killed (SIGKILL) in the
middle of a burst loses nothing and nothing is posted twice."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from wsgiref.simple_server import make_server

import psycopg
import pytest

from bot.app import build_runtime, create_app
from bot.http import make_wsgi_app
from bot.jobs import Job
from bot.replies import ReplyTo
from bot.work_queue import DEFER_FUNCTION, PostgresQueue, conninfo, ensure_queue_schema
from config import Settings
from config.settings import SAMPLE_MAP
from knowledge.service import KnowledgeService
from sandbox.slack_api import SlackStandIn
from tests.bot.conftest import (
    BOT_TOKEN,
    SIGNING_SECRET,
    BotServer,
    _QuietHandler,
    _ThreadingWSGIServer,
    console_script,
    process_env,
)

BURST = 50
STALLED_AFTER_S = 3.0


@pytest.fixture
def queue_settings(postgres_url: str, model_dir: Path, slack_api: SlackStandIn, tmp_path: Path) -> Settings:
    return Settings.from_mapping({
        "data_dir": tmp_path / "data", "database_url": postgres_url, "embedding_model_dir": model_dir,
        "journey_map_path": SAMPLE_MAP, "slack_bot_token": BOT_TOKEN, "slack_signing_secret": SIGNING_SECRET,
        "slack_api_base_url": slack_api.base_url, "slack_stalled_after_s": STALLED_AFTER_S, "slack_worker_concurrency": 2,
    })


@pytest.fixture
def web(queue_settings: Settings, slack_api: SlackStandIn) -> Iterator[BotServer]:
    knowledge = KnowledgeService(queue_settings)
    knowledge.index()
    runtime = build_runtime(queue_settings, knowledge=knowledge)
    app = create_app(runtime)
    httpd = make_server("127.0.0.1", 0, make_wsgi_app(app), server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield BotServer(f"http://127.0.0.1:{httpd.server_address[1]}", slack_api, runtime)
    httpd.shutdown()
    httpd.server_close()


def start_worker(settings: Settings, log: Path, **extra_env: str) -> subprocess.Popen[bytes]:
    env = process_env(settings, settings.slack_api_base_url, JOURNEYBOT_SLACK_SIGNING_SECRET=SIGNING_SECRET,
                      JOURNEYBOT_SLACK_STALLED_AFTER_S=str(STALLED_AFTER_S), JOURNEYBOT_SLACK_WORKER_CONCURRENCY="2",
                      JOURNEYBOT_LOG_LEVEL="INFO", **extra_env)
    return subprocess.Popen([console_script("journeybot"), "slack", "worker"], env=env, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT)


def mention(n: int) -> dict[str, Any]:
    ts = f"1700100{n:03d}.000100"
    return {"type": "app_mention", "user": "U0REP", "text": f"<@U0JOURNEY> what should I send a CFO who worries about cost? ({n})",
            "channel": "C0BURST", "ts": ts, "event_ts": ts}


def answers_per_thread(slack: SlackStandIn) -> Counter[str]:
    return Counter(str(c["params"].get("thread_ts")) for c in slack.of("chat.postMessage") if c["params"].get("channel") == "C0BURST")


def queued_jobs(settings: Settings) -> list[tuple[str, int]]:
    with psycopg.connect(conninfo(settings)) as connection:
        return [(str(r[0]), int(r[1])) for r in connection.execute("SELECT status, attempts FROM procrastinate_jobs").fetchall()]


def wait_until_registered(settings: Settings, count: int, timeout: float = 60.0) -> None:
    """Workers are ready once they registered (loaded the index, warmed up, connected)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with psycopg.connect(conninfo(settings)) as connection:
            exists = connection.execute("SELECT to_regclass('procrastinate_workers')").fetchone()
            row = connection.execute("SELECT count(*) FROM procrastinate_workers").fetchone() if exists and exists[0] else (0,)
        if row and row[0] >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"{count} workers did not register within {timeout}s")


def test_a_killed_worker_loses_no_acknowledged_mention(web: BotServer, queue_settings: Settings, tmp_path: Path) -> None:
    log = tmp_path / "workers.log"
    web.slack.latency["chat.postMessage"] = 0.25  # answers posted, the worker still waiting: the riskiest moment to die
    workers = [start_worker(queue_settings, log), start_worker(queue_settings, log)]
    try:
        wait_until_registered(queue_settings, len(workers))
        with ThreadPoolExecutor(max_workers=10) as pool:
            statuses = list(pool.map(lambda n: web.event(mention(n), event_id=f"EvBurst{n:03d}").status, range(BURST)))
        assert statuses == [200] * BURST  # every one acknowledged: Slack will not send them again
        web.slack.wait_for(lambda _: sum(answers_per_thread(web.slack).values()) >= 5, timeout=90)
        workers[0].send_signal(signal.SIGKILL)  # mid-burst, with jobs in hand
        workers[0].wait(timeout=10)
        deadline = time.monotonic() + 120
        while len(answers_per_thread(web.slack)) < BURST and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(STALLED_AFTER_S)  # a late duplicate would show up by now
        answered = answers_per_thread(web.slack)
        assert len(answered) == BURST, f"unanswered: {BURST - len(answered)}\n{log.read_text()[-3000:]}"
        assert set(answered.values()) == {1}, f"posted twice: {[t for t, n in answered.items() if n > 1]}"
        # The killed worker's jobs run again once its heartbeat is overdue; those answered
        # before the kill find their answer in the thread and post nothing. Then the queue is
        # empty: a job is deleted once its answer was posted.
        deadline = time.monotonic() + 6 * STALLED_AFTER_S
        while (left := queued_jobs(queue_settings)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert left == [], log.read_text()[-3000:]
        assert "queued again" in log.read_text()  # the killed worker did hold jobs, and they came back
        assert set(answers_per_thread(web.slack).values()) == {1}
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=20)


def test_a_worker_yields_the_cpu_to_acknowledgements(queue_settings: Settings, tmp_path: Path) -> None:
    """Workers lower their own priority (by 10 unless configured), so acks sharing the
    machine are not queued behind answers."""
    base = os.getpriority(os.PRIO_PROCESS, 0)
    workers = [start_worker(queue_settings, tmp_path / "default.log"),
               start_worker(queue_settings, tmp_path / "three.log", JOURNEYBOT_SLACK_WORKER_NICE="3")]
    try:
        wait_until_registered(queue_settings, len(workers))
        assert [os.getpriority(os.PRIO_PROCESS, w.pid) for w in workers] == [min(19, base + 10), min(19, base + 3)]
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=20)


def test_web_process_only_enqueues_on_postgres(web: BotServer, queue_settings: Settings) -> None:
    """No worker running: the mention is acked and waits in the queue, unanswered."""
    assert web.event(mention(999), event_id="EvQueued").status == 200
    time.sleep(1.0)
    assert not web.slack.of("chat.postMessage")
    with psycopg.connect(conninfo(queue_settings)) as connection:
        row = connection.execute("SELECT status, args->'job'->>'event_id' FROM procrastinate_jobs").fetchone()
    assert row == ("todo", "EvQueued")


def test_a_rerun_job_does_not_post_an_answer_twice(bot: BotServer) -> None:
    """A worker died after posting but before the job was done: the rerun finds the answer
    (its event id is in the message metadata) and posts nothing."""
    from bot.conversation import answer_message
    from bot.replies import ReplyTo

    to = ReplyTo("C0RERUN", "U0REP", "1700200000.000100")
    answer_message(bot.runtime, "what does the decision stage mean?", to, event_id="EvRerun")
    answer_message(bot.runtime, "what does the decision stage mean?", to, event_id="EvRerun", retry=True)
    answer_message(bot.runtime, "what does the decision stage mean?", to, event_id="EvOther", retry=True)
    posts = [c["params"] for c in bot.slack.of("chat.postMessage") if c["params"]["channel"] == "C0RERUN"]
    assert [p["metadata"]["event_payload"]["event_id"] for p in posts] == ["EvRerun", "EvOther"]


def stored_jobs(settings: Settings) -> list[tuple[Any, ...]]:
    with psycopg.connect(conninfo(settings)) as connection:
        return connection.execute(
            "SELECT queue_name, task_name, priority, lock, queueing_lock, args, scheduled_at, status, attempts"
            " FROM procrastinate_jobs ORDER BY id").fetchall()


def test_the_lean_enqueue_stores_what_procrastinates_own_defer_does(queue_settings: Settings) -> None:
    """Jobs go to procrastinate's defer function as one JSON text; the rows must be the ones
    its `batch_defer` writes (same queue, task, defaults and arguments, in order)."""
    ensure_queue_schema(queue_settings)
    jobs = [Job("command", ReplyTo(f"C{i}", "U1", response_url=f"http://x/{i}"), text=f"ask ünïcode \"{i}\" \\ '") for i in range(3)]
    queue = PostgresQueue(queue_settings)
    try:
        assert queue.lean
        for job in jobs:
            queue.enqueue(job)
        lean = stored_jobs(queue_settings)
        with psycopg.connect(conninfo(queue_settings), autocommit=True) as connection:
            connection.execute("DELETE FROM procrastinate_jobs")
        queue.lean = False
        for job in jobs:
            queue.enqueue(job)
        assert stored_jobs(queue_settings) == lean
    finally:
        queue.close()
    assert [Job.from_dict(row[5]["job"]) for row in lean] == jobs


def test_a_schema_without_the_defer_function_is_noticed(queue_settings: Settings) -> None:
    """Another procrastinate version may name its defer function differently: the queue
    then falls back to `batch_defer` (whose rows the test above compares)."""
    ensure_queue_schema(queue_settings)
    queue = PostgresQueue(queue_settings)
    queue.close()
    assert queue.lean
    with psycopg.connect(conninfo(queue_settings), autocommit=True) as connection:
        connection.execute(f"ALTER FUNCTION {DEFER_FUNCTION} RENAME TO procrastinate_defer_jobs_v99")
    queue = PostgresQueue(queue_settings)
    queue.close()
    assert not queue.lean


def test_a_connection_the_database_dropped_is_replaced_before_a_batch(queue_settings: Settings) -> None:
    """Connections idle past the check interval are checked before use: a server restart
    or an idle timeout between bursts costs no ack."""
    ensure_queue_schema(queue_settings)
    queue = PostgresQueue(queue_settings)
    queue.idle_check_s = 0.2
    try:
        queue.enqueue(Job("command", ReplyTo("C1", "U1"), text="ask first"))
        with psycopg.connect(conninfo(queue_settings), autocommit=True) as connection:
            dropped = connection.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = ''").fetchone()
        assert dropped and dropped[0] >= 1
        time.sleep(0.3)
        queue.enqueue(Job("command", ReplyTo("C2", "U1"), text="ask second"))
    finally:
        queue.close()
    assert [row[5]["job"]["text"] for row in stored_jobs(queue_settings)] == ["ask first", "ask second"]
