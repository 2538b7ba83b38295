"""The Slack front door under a burst: 50 signed `/journey ask …` slash commands fired at
once at the real app, served over HTTP on 127.0.0.1, its Web API calls going to the local
Slack stand-in (no LLM, no network).

    python -m bench.slack [--concurrency 50] [--rounds 3] [--pool 0] [--clients process|thread]

Measures per request
- ack: from sending the request to the HTTP response (Slack's 3-second limit applies),
- answer: from sending the request to the stand-in receiving the chat.postEphemeral /
  chat.postMessage that carries the answer.
Targets: ack p99 <= 300 ms; answer p95 <= 1 s. `--pool N` gives Bolt a listener thread
pool of N workers for a comparison (0 = whatever bot/app.py configures).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import multiprocessing
import os
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from bench.common import GOLDEN, load_settings_for_bench, percentile
from bot.app import build_runtime, create_app
from bot.http import make_wsgi_app
from config import Settings
from config.settings import SAMPLE_MAP
from knowledge.evaluation import load_golden
from knowledge.service import KnowledgeService
from sandbox.slack_api import SlackStandIn

SECRET = "bench-signing-secret"
SEQUENTIAL = 40
ACK_P99_TARGET_MS = 300.0
ANSWER_P95_TARGET_MS = 1000.0
ANSWER_METHODS = ("chat.postEphemeral", "chat.postMessage")


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
            "team_id": "T0BENCH", "user_name": "bench", "channel_name": channel.lower(), "trigger_id": "1.2.3",
            "response_url": slack.response_url(channel), "api_app_id": "A0JOURNEY", "token": "legacy"}


def _answers(slack: SlackStandIn, channels: set[str], timeout: float) -> dict[str, float]:
    """Channel -> time.monotonic() at which the stand-in received its answer."""
    deadline = time.monotonic() + timeout
    while True:
        found = {c["params"].get("channel"): c["at"] for c in slack.calls
                 if c["method"] in ANSWER_METHODS and c["params"].get("channel") in channels}
        if len(found) == len(channels) or time.monotonic() > deadline:
            return found
        time.sleep(0.01)


def run(concurrency: int, rounds: int, pool: int, clients: str = "process") -> dict[str, Any]:
    base = load_settings_for_bench()
    data_dir = Path(tempfile.mkdtemp(prefix="jb-bench-slack-"))
    slack = SlackStandIn().start()
    settings = Settings.from_mapping({
        "data_dir": data_dir, "embedding_model_dir": base.embedding_model_dir, "journey_map_path": SAMPLE_MAP,
        "slack_bot_token": "xoxb-bench", "slack_signing_secret": SECRET, "slack_api_base_url": slack.base_url,
    })
    knowledge = KnowledgeService(settings)
    knowledge.index()
    app = create_app(build_runtime(settings, knowledge=knowledge))
    if pool:
        app._listener_runner.listener_executor = ThreadPoolExecutor(max_workers=pool)  # comparison runs only
    httpd = make_server("127.0.0.1", 0, make_wsgi_app(app), server_class=_Server, handler_class=_Quiet)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/slack/events"
    questions = [g.question for g in load_golden(GOLDEN)]
    executor_workers = getattr(app._listener_runner.listener_executor, "_max_workers", None)

    # Warm-up: model, retriever, database, HTTP keep-alive pools (not measured).
    sent, _, status = _signed(url, _form(slack, "C0WARM", questions[0]))
    assert status == 200, status
    assert _answers(slack, {"C0WARM"}, 30), "warm-up got no answer"

    # One request at a time (each sent after the previous answer arrived): answer time
    # without contention, over many golden questions.
    solo_acks: list[float] = []
    solo_answers: list[float] = []
    for i, question in enumerate(questions[1:SEQUENTIAL + 1]):
        channel = f"C0SOLO{i:03d}"
        sent, acked, status = _signed(url, _form(slack, channel, question))
        solo_answers.append(_answers(slack, {channel}, 30)[channel] - sent)
        solo_acks.append(acked - sent)

    acks: list[float] = []
    answers: list[float] = []
    statuses: dict[int, int] = {}
    missing = 0
    wall: list[float] = []
    for r in range(rounds):
        channels = [f"C{r:02d}B{i:03d}" for i in range(concurrency)]
        forms = [_form(slack, c, questions[(i + r) % len(questions)]) for i, c in enumerate(channels)]
        started = time.monotonic()
        if clients == "process":  # the clients' own CPU stays off the server's GIL
            receive, send = multiprocessing.Pipe(duplex=False)
            child = multiprocessing.get_context("fork").Process(target=_burst_in_child, args=(url, forms, send))
            child.start()
            results = receive.recv()
            child.join()
        else:
            results = _burst(url, forms)
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
    httpd.shutdown()
    httpd.server_close()
    slack.stop()

    def ms(values: list[float], p: float) -> float:
        return round(percentile(values, p) * 1000, 1)

    ack_p99, answer_p95 = ms(acks, 99), ms(answers, 95)
    return {
        "concurrency": concurrency,
        "clients": clients,
        "rounds": rounds,
        "requests": len(acks),
        "cpus": os.cpu_count(),
        "bolt_listener_workers": executor_workers,
        "statuses": statuses,
        "answers_missing": missing,
        "sequential": {"requests": len(solo_answers), "ack_p99_ms": ms(solo_acks, 99), "answer_p50_ms": ms(solo_answers, 50),
                       "answer_p95_ms": ms(solo_answers, 95), "ok": ms(solo_answers, 95) <= ANSWER_P95_TARGET_MS},
        "ack": {"p50_ms": ms(acks, 50), "p99_ms": ack_p99, "max_ms": round(max(acks) * 1000, 1),
                "target_p99_ms": ACK_P99_TARGET_MS, "ok": ack_p99 <= ACK_P99_TARGET_MS},
        "answer": {"p50_ms": ms(answers, 50), "p95_ms": answer_p95, "max_ms": round(max(answers) * 1000, 1),
                   "target_p95_ms": ANSWER_P95_TARGET_MS, "ok": answer_p95 <= ANSWER_P95_TARGET_MS and not missing},
        "burst_drain_s": [round(w, 2) for w in wall],
        "answers_per_s": round(concurrency * rounds / sum(wall), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pool", type=int, default=0, help="Bolt listener pool size for a comparison (0 = app default)")
    parser.add_argument("--clients", choices=("process", "thread"), default="process",
                        help="fire from a forked process (default) or from threads of the server's own process")
    args = parser.parse_args()
    print(json.dumps(run(args.concurrency, args.rounds, args.pool, args.clients), indent=2))


if __name__ == "__main__":
    main()
