"""The Slack front door under a burst: 50 signed `/journey ask …` slash commands fired at
once at the real app, served over HTTP on 127.0.0.1, its replies going to the local Slack
stand-in (no LLM, no network); beside it, in the same run, a plain Bolt app that only acks.

    python -m bench.slack [--concurrency 50] [--rounds 3] [--queue inprocess|postgres] [--clients process|thread]

Measures per request
- ack: from sending the request to the HTTP response (Slack's 3-second limit applies),
- answer: from sending the request to the stand-in receiving the answer (response_url).
Targets: ack p99 <= 1.2x the plain Bolt app's in the same run; answer p95 <= 1.5 s inside
the burst. `--queue postgres` runs the production shape: the web app only enqueues on
PostgreSQL (127.0.0.1:5432, a scratch database) and two `journeybot slack worker`
processes answer; `inprocess` is the embedded default (threads of the web process).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import psycopg
from slack_bolt import App
from slack_sdk import WebClient

from bench.common import GOLDEN, load_settings_for_bench, percentile
from bot.app import build_runtime, create_app
from bot.http import make_wsgi_app
from bot.work_queue import conninfo
from config import Settings
from config.settings import SAMPLE_MAP
from knowledge.evaluation import load_golden
from knowledge.service import KnowledgeService
from sandbox.slack_api import SlackStandIn

SECRET = "bench-signing-secret"
SEQUENTIAL = 40
ACK_RATIO_TARGET = 1.2
ANSWER_P95_TARGET_MS = 1500.0
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 1024  # gunicorn's default backlog is 2048; socketserver's is 5


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def _signed(url: str, form: dict[str, str]) -> tuple[float, float, int]:
    """Send one slash command; (sent, answered) on time.monotonic(), and the status."""
    body = urlencode(form).encode()
    stamp = str(int(time.time()))
    signature = "v0=" + hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature})
    sent = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return sent, time.monotonic(), status


def _burst(url: str, forms: list[dict[str, str]]) -> dict[str, tuple[float, float, int]]:
    """Fire every form at once from its own thread; channel -> (sent, answered, status)."""
    barrier = threading.Barrier(len(forms))
    results: dict[str, tuple[float, float, int]] = {}

    def fire(form: dict[str, str]) -> None:
        barrier.wait()
        results[form["channel_id"]] = _signed(url, form)

    threads = [threading.Thread(target=fire, args=(f,)) for f in forms]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _burst_in_child(url: str, forms: list[dict[str, str]], out: Any) -> None:
    out.send(_burst(url, forms))
    out.close()


def _form(slack: SlackStandIn, channel: str, question: str) -> dict[str, str]:
    return {"command": "/journey", "text": f"ask {question}", "channel_id": channel, "user_id": "U0BENCH",
            "team_id": "T0TEST", "user_name": "bench", "channel_name": channel.lower(), "trigger_id": "1.2.3",
            "response_url": slack.response_url(channel), "api_app_id": "A0JOURNEY", "token": "legacy"}


def _answers(slack: SlackStandIn, channels: set[str], timeout: float) -> dict[str, float]:
    """Channel -> time.monotonic() at which the stand-in received its answer (stamped on
    arrival, so polling slowly costs no accuracy and leaves the GIL to the app)."""
    deadline = time.monotonic() + timeout
    found: dict[str, float] = {}
    seen = 0
    while True:
        calls = slack.calls[seen:]
        seen += len(calls)
        found.update({c["params"]["_url"]: c["at"] for c in calls
                      if c["method"] == "response_url" and c["params"].get("_url") in channels and not c["failed"]})
        if len(found) == len(channels) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def _plain_in_child(slack_base_url: str, out: Any) -> None:
    """The plain app in its own process: no GIL shared with ours, the same machine load."""
    app = App(signing_secret=SECRET, client=WebClient(token="xoxb-plain", base_url=slack_base_url),
              token_verification_enabled=False, process_before_response=True, raise_error_for_unhandled_request=False)
    app.command("/journey")(lambda ack: ack())
    httpd = make_server("127.0.0.1", 0, make_wsgi_app(app), server_class=_Server, handler_class=_Quiet)
    out.send(httpd.server_address[1])
    out.close()
    httpd.serve_forever(poll_interval=0.05)


def _ours_in_child(values: dict[str, Any], out: Any) -> None:
    """Our web app in its own process, as gunicorn runs it: the bench's stand-in and its
    bookkeeping stay off this process's GIL."""
    settings = Settings.from_mapping(values)
    runtime = build_runtime(settings, knowledge=KnowledgeService(settings))
    runtime.warm_up()
    httpd = make_server("127.0.0.1", 0, make_wsgi_app(create_app(runtime)), server_class=_Server, handler_class=_Quiet)
    out.send(httpd.server_address[1])
    out.close()
    httpd.serve_forever(poll_interval=0.05)


def _in_child(target: Any, *args: Any) -> tuple[Any, str]:
    receive, send = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.get_context("spawn").Process(target=target, args=(*args, send), daemon=True)
    process.start()
    return process, f"http://127.0.0.1:{receive.recv()}/slack/events"


def _fire(url: str, forms: list[dict[str, str]], clients: str) -> dict[str, tuple[float, float, int]]:
    if clients == "thread":
        return _burst(url, forms)
    receive, send = multiprocessing.Pipe(duplex=False)  # the clients' own CPU stays off the server's GIL
    child = multiprocessing.get_context("fork").Process(target=_burst_in_child, args=(url, forms, send))
    child.start()
    results: dict[str, tuple[float, float, int]] = receive.recv()
    child.join()
    return results


def _scratch_database() -> str:
    name = f"jb_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[-1]
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _workers(settings: Settings, count: int, concurrency: int) -> list[subprocess.Popen[bytes]]:
    journeybot = str(Path(sys.executable).parent / "journeybot")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("JOURNEYBOT_") and k != "DATABASE_URL"},
           "DATABASE_URL": settings.database_url, "JOURNEYBOT_DATA_DIR": str(settings.data_dir),
           "JOURNEYBOT_EMBEDDING_MODEL_DIR": str(settings.embedding_model_dir), "JOURNEYBOT_SLACK_BOT_TOKEN": "xoxb-bench",
           "JOURNEYBOT_SLACK_SIGNING_SECRET": SECRET, "JOURNEYBOT_SLACK_API_BASE_URL": settings.slack_api_base_url,
           "JOURNEYBOT_SLACK_WORKER_CONCURRENCY": str(concurrency)}
    processes = [subprocess.Popen([journeybot, "slack", "worker"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for _ in range(count)]
    deadline = time.monotonic() + 60
    with psycopg.connect(conninfo(settings), autocommit=True) as connection:
        while time.monotonic() < deadline:
            exists = connection.execute("SELECT to_regclass('procrastinate_workers')").fetchone()
            row = connection.execute("SELECT count(*) FROM procrastinate_workers").fetchone() if exists and exists[0] else (0,)
            if row and row[0] >= count:
                break
            time.sleep(0.2)
    return processes


def run(concurrency: int, rounds: int, queue: str, clients: str = "process", workers: int = 2,
        worker_concurrency: int = 2) -> dict[str, Any]:
    base = load_settings_for_bench()
    data_dir = Path(tempfile.mkdtemp(prefix="jb-bench-slack-"))
    slack = SlackStandIn().start()
    database_url = _scratch_database() if queue == "postgres" else ""
    values = {
        "data_dir": data_dir, "embedding_model_dir": base.embedding_model_dir, "journey_map_path": SAMPLE_MAP,
        "slack_bot_token": "xoxb-bench", "slack_signing_secret": SECRET, "slack_api_base_url": slack.base_url,
        "database_url": database_url, "slack_queue": queue,
    }
    settings = Settings.from_mapping(values)
    KnowledgeService(settings).index()
    worker_processes = _workers(settings, workers, worker_concurrency) if queue == "postgres" else []
    ours_process, url = _in_child(_ours_in_child, values)
    plain_process, plain_url = _in_child(_plain_in_child, slack.base_url)
    questions = [g.question for g in load_golden(GOLDEN)]
    try:
        # Warm-up: model, retriever, database, HTTP keep-alive pools (not measured).
        for target in (url, plain_url):
            assert _signed(target, _form(slack, "C0WARM", questions[0]))[2] == 200
        assert _answers(slack, {"C0WARM"}, 30), "warm-up got no answer"

        # One request at a time: answer time without contention, over many golden questions.
        solo: list[float] = []
        for i, question in enumerate(questions[1:SEQUENTIAL + 1]):
            channel = f"C0SOLO{i:03d}"
            sent, _, _ = _signed(url, _form(slack, channel, question))
            solo.append(_answers(slack, {channel}, 30)[channel] - sent)

        acks: list[float] = []
        plain_acks: list[float] = []
        answers: list[float] = []
        statuses: dict[int, int] = {}
        missing = 0
        wall: list[float] = []
        for r in range(rounds):
            # Both bursts at the same moment: the plain app's acks see the same machine load
            # (our answers being written) as ours do.
            channels = [f"C{r:02d}B{i:03d}" for i in range(concurrency)]
            forms = [_form(slack, c, questions[(i + r) % len(questions)]) for i, c in enumerate(channels)]
            plain_forms = [_form(slack, f"P{r:02d}B{i:03d}", "x") for i in range(concurrency)]
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=2) as pool:
                ours, plain = pool.submit(_fire, url, forms, clients), pool.submit(_fire, plain_url, plain_forms, clients)
                results = ours.result()
                plain_acks += [acked - sent for sent, acked, _ in plain.result().values()]
            got = _answers(slack, set(channels), 60)
            wall.append(max(got.values(), default=time.monotonic()) - started)
            for channel in channels:
                sent, acked, status = results[channel]
                statuses[status] = statuses.get(status, 0) + 1
                acks.append(acked - sent)
                if channel in got:
                    answers.append(got[channel] - sent)
                else:
                    missing += 1
    finally:
        ours_process.terminate()
        plain_process.terminate()
        for worker in worker_processes:
            worker.terminate()
            worker.wait(timeout=20)
        slack.stop()
        if database_url:
            _drop_database(database_url)

    def ms(values: list[float], p: float) -> float:
        return round(percentile(values, p) * 1000, 1)

    ack_p99, plain_p99, answer_p95 = ms(acks, 99), ms(plain_acks, 99), ms(answers, 95)
    ratio = round(ack_p99 / plain_p99, 2) if plain_p99 else None
    return {
        "concurrency": concurrency, "queue": queue, "clients": clients, "rounds": rounds, "requests": len(acks),
        "cpus": os.cpu_count(), "statuses": statuses, "answers_missing": missing,
        "sequential": {"requests": len(solo), "answer_p50_ms": ms(solo, 50), "answer_p95_ms": ms(solo, 95)},
        "ack": {"p50_ms": ms(acks, 50), "p99_ms": ack_p99, "max_ms": round(max(acks) * 1000, 1)},
        "plain_bolt_ack": {"p50_ms": ms(plain_acks, 50), "p99_ms": plain_p99},
        "ack_p99_ratio": ratio, "ack_ok": ratio is not None and ratio <= ACK_RATIO_TARGET,
        "answer": {"p50_ms": ms(answers, 50), "p95_ms": answer_p95, "max_ms": round(max(answers) * 1000, 1),
                   "target_p95_ms": ANSWER_P95_TARGET_MS, "ok": answer_p95 <= ANSWER_P95_TARGET_MS and not missing},
        "burst_drain_s": [round(w, 2) for w in wall],
        "answers_per_s": round(concurrency * rounds / sum(wall), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queue", choices=("inprocess", "postgres"), default="inprocess")
    parser.add_argument("--clients", choices=("process", "thread"), default="process",
                        help="fire from a forked process (default) or from threads of the server's own process")
    parser.add_argument("--workers", type=int, default=2, help="`journeybot slack worker` processes (postgres queue)")
    parser.add_argument("--worker-concurrency", type=int, default=2, help="jobs each worker answers at once")
    args = parser.parse_args()
    print(json.dumps(run(args.concurrency, args.rounds, args.queue, args.clients, args.workers, args.worker_concurrency),
                     indent=2))


if __name__ == "__main__":
    main()
