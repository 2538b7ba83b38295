"""Where acknowledged Slack work waits until a worker answers it.

With PostgreSQL (production: the database every process already shares) jobs go to
procrastinate's table: the web process only verifies, enqueues and acks; `worker`
processes answer. A job is deleted only once its answer was delivered; a worker that dies
mid-job stops sending heartbeats, and after `slack_stalled_after_s` its jobs go back to
the queue for another worker (the answer's event-id metadata keeps it to one visible post).
Why procrastinate: see docs/operations.md.

With the embedded defaults (SQLite) a pool of threads in the web process answers, which
keeps the two-command start; those jobs live only as long as the process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import queue
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import procrastinate
import psycopg
import psycopg_pool
from procrastinate.types import JSONValue
from sqlalchemy.engine import make_url

from bot.answering import perform
from bot.jobs import Job
from bot.runtime import BotRuntime
from config import Settings

log = logging.getLogger(__name__)
QUEUE = "slack"
TASK = "journeybot.answer"
SCHEMA_LOCK = 7_350_221  # pg_advisory_lock key: one process applies the queue's schema
MAX_ATTEMPTS = 3
MAX_BATCH = 200
IDLE_CHECK_S = 2.0  # a pooled connection idle longer than this is checked before a batch uses it
ENQUEUE_TIMEOUT_S = 2.0  # Slack's ack deadline is 3 s: fail (and let Slack retry) rather than miss it
DEFER_FUNCTION = "procrastinate_defer_jobs_v1(procrastinate_job_to_defer_v1[])"
# The batch as one JSON array, unpacked into procrastinate's job type by PostgreSQL.
DEFER_BATCH = (
    "SELECT procrastinate_defer_jobs_v1(ARRAY("
    " SELECT ROW(%(queue)s, %(task)s, 0, NULL, NULL, arguments, NULL)::procrastinate_job_to_defer_v1"
    " FROM jsonb_array_elements(%(batch)s::jsonb) WITH ORDINALITY AS b(arguments, n) ORDER BY n))"
)


class WorkQueue(Protocol):
    def enqueue(self, job: Job) -> None: ...

    def close(self) -> None: ...


class InProcessQueue:
    """Threads of this process answer (embedded defaults; nothing outlives the process)."""

    def __init__(self, runtime: BotRuntime, threads: int) -> None:
        self._runtime = runtime
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="answer")

    def enqueue(self, job: Job) -> None:
        self._pool.submit(perform, self._runtime, job)

    def close(self) -> None:
        self._pool.shutdown(wait=True)


class PostgresQueue:
    """procrastinate on the shared PostgreSQL database: durable across process deaths.

    Acks that arrive together are committed together (group commit): one thread inserts
    every job waiting at that moment in one statement, and each ack returns once its job's
    batch committed. A burst then costs a few round trips instead of one per request,
    which keeps acks as quick as a plain Bolt app's.

    The batches go through a small pool of autocommit connections of its own: the insert
    commits in its own round trip, where procrastinate's default pool opens a transaction
    and commits it apart. A connection idle for over `IDLE_CHECK_S` is checked before it is
    lent, so one the database dropped meanwhile is replaced rather than failing a batch of
    acks; one used within that time is lent unchecked (in a burst, that round trip was a
    third of each ack's wait). A batch that fails is not retried here: its insert may have
    committed, and a second one would answer twice; its acks fail and Slack retries events.

    The batch is handed to procrastinate's own defer function (the one its `batch_defer`
    calls, from the schema this version installed) as one JSON text. Building its job
    objects and adapting each to the composite type cost 0.2-0.6 ms of CPU per job in the
    web process, more than a plain Bolt app's whole ack (docs/benchmarks.md). Should an
    installed schema lack that function, `batch_defer` is used instead."""

    def __init__(self, settings: Settings) -> None:
        self._app = queue_app(settings)
        self.idle_check_s = IDLE_CHECK_S
        self._last_used: weakref.WeakKeyDictionary[psycopg.Connection[Any], float] = weakref.WeakKeyDictionary()
        self._pool = psycopg_pool.ConnectionPool(conninfo(settings), min_size=1, max_size=2, open=True,
                                                 kwargs={"autocommit": True}, name="slack-enqueue",
                                                 check=self._check_if_idle)
        self._app.open(self._pool)
        self._task = self._app.configure_task(name=TASK, queue=QUEUE)
        self.lean = _has_defer_function(self._pool)  # False: through batch_defer (see above)
        self._pending: queue.Queue[_Pending] = queue.Queue()
        self._thread = threading.Thread(target=self._commit_batches, name="enqueue", daemon=True)
        self._thread.start()

    def enqueue(self, job: Job) -> None:
        pending = _Pending(job.to_dict())
        self._pending.put(pending)
        if not pending.done.wait(ENQUEUE_TIMEOUT_S):
            raise TimeoutError("the Slack work queue did not take the job in time")
        if pending.error is not None:
            raise pending.error

    def close(self) -> None:
        self._pending.put(_STOP)
        self._thread.join(timeout=10)
        self._app.close()
        self._pool.close()

    def _commit_batches(self) -> None:
        while True:
            batch = [self._pending.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._pending.get_nowait())
                except queue.Empty:
                    break
            stop = _STOP in batch
            batch = [p for p in batch if p is not _STOP]
            error: Exception | None = None
            try:
                if batch:
                    self._defer(batch)
            except Exception as exc:  # noqa: BLE001 - handed to every waiting ack
                error = exc
            for pending in batch:
                pending.error = error
                pending.done.set()
            if stop:
                return

    def _check_if_idle(self, connection: psycopg.Connection[Any]) -> None:
        if time.monotonic() - self._last_used.get(connection, float("-inf")) > self.idle_check_s:
            psycopg_pool.ConnectionPool.check_connection(connection)

    def _defer(self, batch: list[_Pending]) -> None:
        if not self.lean:
            self._task.batch_defer(*({"job": cast(JSONValue, p.job)} for p in batch))
            return
        arguments = json.dumps([{"job": p.job} for p in batch], ensure_ascii=False, separators=(",", ":"))
        with self._pool.connection() as connection:
            connection.execute(DEFER_BATCH, {"queue": QUEUE, "task": TASK, "batch": arguments})
            self._last_used[connection] = time.monotonic()


def _has_defer_function(pool: psycopg_pool.ConnectionPool) -> bool:
    with pool.connection() as connection:
        row = connection.execute("SELECT to_regprocedure(%s)", (DEFER_FUNCTION,)).fetchone()
    if not row or row[0] is None:
        log.warning("procrastinate's schema has no %s; enqueueing through batch_defer", DEFER_FUNCTION)
        return False
    return True


@dataclass
class _Pending:
    job: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    error: Exception | None = None


_STOP = _Pending({})


def open_queue(runtime: BotRuntime) -> WorkQueue:
    settings = runtime.settings
    if settings.durable_slack_queue:
        ensure_queue_schema(settings)
        return PostgresQueue(settings)
    return InProcessQueue(runtime, threads=max(2, settings.slack_worker_concurrency))


def conninfo(settings: Settings) -> str:
    """libpq's form of DATABASE_URL (SQLAlchemy's driver suffix removed)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError("JOURNEYBOT_SLACK_QUEUE=postgres needs DATABASE_URL to be a PostgreSQL URL")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def queue_app(settings: Settings) -> procrastinate.App:
    return procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(settings)))


def ensure_queue_schema(settings: Settings) -> bool:
    """Create procrastinate's tables once (several processes may start together);
    True when this call created them."""
    with psycopg.connect(conninfo(settings), autocommit=True) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            row = connection.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
            if row and row[0]:
                return False
            connection.execute(procrastinate.schema.SchemaManager.get_schema())
            log.info("created the Slack work queue's tables")
            return True
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


def lower_priority(steps: int) -> None:
    """Give a worker's CPU to acknowledgements first. Slack waits for the ack, while an
    answer may take a second; where `web` and `worker` share a machine, a busy worker
    otherwise delays acks (measured in docs/benchmarks.md). Alone on a machine it changes
    nothing."""
    if steps <= 0 or not hasattr(os, "nice"):
        return
    try:
        os.nice(steps)
    except OSError as exc:
        log.warning("could not lower the worker's CPU priority by %d: %s", steps, exc)


def run_worker(runtime: BotRuntime) -> None:
    """A `worker` process: answer queued jobs until stopped; retry jobs of dead workers."""
    settings = runtime.settings
    ensure_queue_schema(settings)
    app = queue_app(settings)

    @app.task(name=TASK, queue=QUEUE, pass_context=True,
              retry=procrastinate.RetryStrategy(max_attempts=MAX_ATTEMPTS, wait=2))
    def answer(context: procrastinate.JobContext, job: dict[str, Any]) -> None:
        attempts = context.job.attempts if context.job else 0
        perform(runtime, Job.from_dict(job), retry=attempts > 0)

    # procrastinate's INFO lines carry job arguments (what people typed): keep them out of the log
    logging.getLogger("procrastinate").setLevel(max(logging.WARNING, logging.getLogger().level))
    asyncio.run(_serve(app, settings))


async def _serve(app: procrastinate.App, settings: Settings) -> None:
    stalled_after = settings.slack_stalled_after_s
    async with app.open_async():
        reaper = asyncio.create_task(_requeue_stalled(app, stalled_after))
        try:
            await app.run_worker_async(queues=[QUEUE], concurrency=settings.slack_worker_concurrency,
                                       delete_jobs="successful", update_heartbeat_interval=stalled_after / 3,
                                       stalled_worker_timeout=stalled_after)
        finally:
            reaper.cancel()


async def _requeue_stalled(app: procrastinate.App, stalled_after: float) -> None:
    """Jobs whose worker stopped sending heartbeats (killed, machine gone) run again."""
    while True:
        await asyncio.sleep(max(1.0, stalled_after / 3))
        try:
            for job in await app.job_manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=stalled_after):
                log.warning("job %s stalled (its worker stopped); queued again", job.id)
                await app.job_manager.retry_job(job)
        except Exception:  # noqa: BLE001 - the reaper must outlive a database hiccup
            log.exception("could not look for stalled jobs")
