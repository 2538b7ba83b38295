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
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import procrastinate
import psycopg
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
    """procrastinate on the shared PostgreSQL database: durable across process deaths."""

    def __init__(self, settings: Settings) -> None:
        self._app = queue_app(settings)
        self._app.open()
        self._task = self._app.configure_task(name=TASK, queue=QUEUE)

    def enqueue(self, job: Job) -> None:
        self._task.defer(job=job.to_dict())

    def close(self) -> None:
        self._app.close()


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
            connection.execute(procrastinate.schema.SchemaManager.get_schema())  # type: ignore[arg-type]
            log.info("created the Slack work queue's tables")
            return True
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


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

    logging.getLogger("procrastinate").setLevel(max(logging.WARNING, logging.getLogger().level))  # its INFO lines carry job arguments
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
