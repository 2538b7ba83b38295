"""A corpus of bad requests against the real app served over HTTP: every one is refused
with a 4xx, no Bolt listener runs and nothing reaches the Slack Web API stand-in. A
positive control (a correctly signed `/journey help`) shows the corpus does not pass
merely because everything fails."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlparse

import pytest
from slack_bolt import App
from slack_bolt.listener.custom_listener import CustomListener

from bot.app import build_runtime, create_app
from bot.http import make_wsgi_app
from knowledge.service import KnowledgeService
from sandbox.slack_api import SlackStandIn
from tests.bot.conftest import SIGNING_SECRET, BotServer, Reply, _QuietHandler, _ThreadingWSGIServer, bot_settings, sign

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
SETTLE_S = 0.5  # long enough for a listener's background part to reach the stand-in
GUARD_SETTLE_S = 0.05  # refused before Bolt saw it (App.dispatch never called): nothing can follow
WATCHED = ("chat.", "views.", "files.", "upload", "response_url", "reactions.", "conversations.")


@pytest.fixture(scope="module")
def shared_bot(sample_service: Any) -> Iterator[BotServer]:
    """One app and one stand-in for the whole corpus (each case checks only the calls it
    added); the conftest fixtures would cost a second of shutdown per case."""
    from wsgiref.simple_server import make_server

    slack = SlackStandIn().start()
    settings = bot_settings(sample_service, slack)
    runtime = build_runtime(settings, knowledge=KnowledgeService(settings, engine=sample_service.engine))
    httpd = make_server("127.0.0.1", 0, make_wsgi_app(create_app(runtime)), server_class=_ThreadingWSGIServer,
                        handler_class=_QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield BotServer(f"http://127.0.0.1:{httpd.server_address[1]}", slack, runtime)
    httpd.shutdown()
    httpd.server_close()
    slack.stop()


@pytest.fixture
def dispatches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per request that reached Bolt's App.dispatch (past bot/http.py's checks)."""
    seen: list[int] = []
    original = App.dispatch

    def recording(self: App, req: Any) -> Any:
        seen.append(1)
        return original(self, req)

    monkeypatch.setattr(App, "dispatch", recording)
    return seen


@pytest.fixture
def listener_runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Names of every Bolt listener function that runs, in any app of this process."""
    runs: list[str] = []
    lock = threading.Lock()
    original = CustomListener.run_ack_function

    def recording(self: CustomListener, **kwargs: Any) -> Any:
        with lock:
            runs.append(getattr(self.ack_function, "__name__", "?"))
        return original(self, **kwargs)

    monkeypatch.setattr(CustomListener, "run_ack_function", recording)
    yield runs


def slash_form(bot: BotServer, text: str = "ask what do I send a CFO?", command: str = "/journey", **extra: str) -> dict[str, str]:
    form = {
        "command": command, "text": text, "channel_id": "C0SALES", "user_id": "U0REP", "team_id": "T0TEST",
        "user_name": "rep", "channel_name": "sales", "response_url": bot.slack.response_url(), "trigger_id": "1.2.3",
        "api_app_id": "A0JOURNEY", "token": "legacy-verification-token",
    }
    form.update(extra)
    return form


def slash_body(bot: BotServer, text: str = "ask what do I send a CFO?", **extra: str) -> bytes:
    return urlencode(slash_form(bot, text, **extra)).encode()


def mention_body(event_type: str = "app_mention", **event: Any) -> bytes:
    payload = {
        "type": "event_callback", "team_id": "T0TEST", "api_app_id": "A0JOURNEY", "event_id": f"Ev{time.time_ns()}",
        "event_time": int(time.time()), "authorizations": [{"user_id": "U0JOURNEY", "is_bot": True}],
        "event": {"type": event_type, "user": "U0REP", "text": "<@U0JOURNEY> what do I send a CFO?", "channel": "C0SALES",
                  "ts": "1700000000.000100", **event},
    }
    return json.dumps(payload).encode()


def headers(body: bytes, *, ts: int | None = None, secret: str = SIGNING_SECRET, content_type: str = FORM,
            signature: str | None = None) -> dict[str, str]:
    stamp = int(time.time()) if ts is None else ts
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": signature if signature is not None else sign(body, stamp, secret)}


def raw_request(bot: BotServer, method: str, path: str, header_list: list[tuple[str, str]], body: bytes = b"",
                send: bytes | None = None) -> Reply:
    """http.client with full control: repeated headers, a Content-Length larger than what
    is sent (the server must answer without waiting for the rest)."""
    url = urlparse(bot.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    started = time.perf_counter()
    try:
        conn.putrequest(method, path)
        for name, value in header_list:
            conn.putheader(name, value)
        conn.endheaders()
        conn.send(body if send is None else send)
        response = conn.getresponse()
        return Reply(response.status, response.read(), time.perf_counter() - started)
    finally:
        conn.close()


# --- the corpus: each case sends one bad request and names the status it must get ----------


def missing_signature(bot: BotServer) -> Reply:
    body = slash_body(bot)
    h = headers(body)
    del h["X-Slack-Signature"]
    return bot.post(body, h)


def missing_timestamp(bot: BotServer) -> Reply:
    body = slash_body(bot)
    h = headers(body)
    del h["X-Slack-Request-Timestamp"]
    return bot.post(body, h)


def missing_both(bot: BotServer) -> Reply:
    return bot.post(slash_body(bot), {"Content-Type": FORM})


def wrong_secret(bot: BotServer) -> Reply:
    body = slash_body(bot)
    return bot.post(body, headers(body, secret="not-the-signing-secret"))


def signature_over_other_body(bot: BotServer) -> Reply:
    body = slash_body(bot)
    return bot.post(body, headers(body, signature=sign(slash_body(bot, "help"), int(time.time()))))


def wrong_version_prefix(bot: BotServer) -> Reply:
    body = slash_body(bot)
    good = sign(body, int(time.time()))
    return bot.post(body, headers(body, signature="v1=" + good[3:]))


def no_version_prefix(bot: BotServer) -> Reply:
    body = slash_body(bot)
    return bot.post(body, headers(body, signature=sign(body, int(time.time()))[3:]))


def truncated_signature(bot: BotServer) -> Reply:
    body = slash_body(bot)
    return bot.post(body, headers(body, signature=sign(body, int(time.time()))[:-8]))


def non_hex_signature(bot: BotServer) -> Reply:
    body = slash_body(bot)
    return bot.post(body, headers(body, signature="v0=" + "zz" * 32))


def uppercase_hex_signature(bot: BotServer) -> Reply:
    body = slash_body(bot)
    return bot.post(body, headers(body, signature=sign(body, int(time.time())).upper()))


def stale_timestamp(bot: BotServer) -> Reply:
    body = slash_body(bot)
    return bot.post(body, headers(body, ts=int(time.time()) - 301 - 5))


def future_timestamp(bot: BotServer) -> Reply:
    body = slash_body(bot)
    return bot.post(body, headers(body, ts=int(time.time()) + 301 + 5))


def non_numeric_timestamp(bot: BotServer) -> Reply:
    body = slash_body(bot)
    h = headers(body)
    h["X-Slack-Request-Timestamp"] = "yesterday"
    h["X-Slack-Signature"] = "v0=" + sign(body, 0)[3:]  # any v0 value; the timestamp is the point
    return bot.post(body, h)


def float_timestamp(bot: BotServer) -> Reply:
    body = slash_body(bot)
    stamp = f"{time.time():.3f}"
    import hashlib
    import hmac

    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return bot.post(body, {"Content-Type": FORM, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + digest})


def replay_ten_minutes_old(bot: BotServer) -> Reply:
    """A captured, valid request sent again later: its signature covers its original
    timestamp, so it cannot be refreshed without the secret."""
    then = int(time.time()) - 600
    body = slash_body(bot)
    return bot.post(body, headers(body, ts=then))


def tampered_extra_param(bot: BotServer) -> Reply:
    body = slash_body(bot, "help")
    h = headers(body)
    return bot.post(body + b"&text=account+Apex+Logistics", h)


def tampered_text(bot: BotServer) -> Reply:
    body = slash_body(bot, "help")
    h = headers(body)
    return bot.post(body.replace(b"text=help", b"text=churn"), h)


def signature_of_another_valid_request(bot: BotServer) -> Reply:
    stamp = int(time.time())
    other = slash_body(bot, "help")
    body = slash_body(bot, "account Apex Logistics")
    return bot.post(body, headers(body, ts=stamp, signature=sign(other, stamp)))


def slash_missing_required_fields(bot: BotServer) -> Reply:
    """Validly signed, but no channel_id / user_id / team_id: not something Slack sends."""
    body = urlencode({"command": "/journey", "text": "ask what do I send a CFO?"}).encode()
    return bot.post(body, headers(body))


def slash_garbage_form(bot: BotServer) -> Reply:
    body = b"%%%&&&===\xff\xfe"
    return bot.post(body, headers(body))


def malformed_json_event(bot: BotServer) -> Reply:
    body = b'{"type": "event_callback", "event": {"type": "app_mention", "text": "hi"'
    return bot.post(body, headers(body, content_type=JSON))


def json_not_an_object(bot: BotServer) -> Reply:
    body = b'["event_callback"]'
    return bot.post(body, headers(body, content_type=JSON))


def malformed_interactive_payload(bot: BotServer) -> Reply:
    body = urlencode({"payload": '{"type": "block_actions", "actions": ['}).encode()
    return bot.post(body, headers(body))


def oversize_body_unread(bot: BotServer) -> Reply:
    """Content-Length says 1.5 MB and only 64 KB is sent: the 413 must come without the
    server waiting for (or reading) the rest."""
    chunk = b"a" * 65536
    h = headers(chunk)
    return raw_request(bot, "POST", "/slack/events",
                       [("Content-Type", FORM), ("Content-Length", "1500000"), ("X-Slack-Request-Timestamp",
                                                                                h["X-Slack-Request-Timestamp"]),
                        ("X-Slack-Signature", h["X-Slack-Signature"])], send=chunk)


def negative_content_length(bot: BotServer) -> Reply:
    body = slash_body(bot)
    h = headers(body)
    return raw_request(bot, "POST", "/slack/events",
                       [("Content-Type", FORM), ("Content-Length", "-1"), *[(k, v) for k, v in h.items() if k != "Content-Type"]],
                       send=b"")


def unknown_slash_command(bot: BotServer) -> Reply:
    body = urlencode(slash_form(bot, "help", command="/notours")).encode()
    return bot.post(body, headers(body))


def wrong_content_type(bot: BotServer) -> Reply:
    body = slash_body(bot)
    return bot.post(body, headers(body, content_type="text/plain"))


def multipart_content_type(bot: BotServer) -> Reply:
    body = slash_body(bot)
    return bot.post(body, headers(body, content_type="multipart/form-data; boundary=x"))


def get_on_events(bot: BotServer) -> Reply:
    return raw_request(bot, "GET", "/slack/events", [])


def put_on_events(bot: BotServer) -> Reply:
    body = slash_body(bot)
    return raw_request(bot, "PUT", "/slack/events", [*headers(body).items(), ("Content-Length", str(len(body)))], body)


def wrong_path(bot: BotServer) -> Reply:
    body = slash_body(bot)
    return bot.post(body, headers(body), path="/slack/commands")


def path_with_suffix(bot: BotServer) -> Reply:
    body = slash_body(bot)
    return bot.post(body, headers(body), path="/slack/events/../events")


def empty_body_signed(bot: BotServer) -> Reply:
    return bot.post(b"", headers(b""))


def empty_body_unsigned(bot: BotServer) -> Reply:
    return bot.post(b"", {"Content-Type": FORM})


def url_verification_bad_signature(bot: BotServer) -> Reply:
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "legacy"}).encode()
    return bot.post(body, headers(body, content_type=JSON, secret="not-the-signing-secret"))


def event_without_listener(bot: BotServer) -> Reply:
    """Validly signed event of a type journeybot neither subscribes to nor listens for."""
    return bot.post(body := mention_body("reaction_added", reaction="eyes"), headers(body, content_type=JSON))


def duplicated_signature_header(bot: BotServer) -> Reply:
    body = slash_body(bot)
    h = headers(body)
    return raw_request(bot, "POST", "/slack/events",
                       [("Content-Type", FORM), ("Content-Length", str(len(body))),
                        ("X-Slack-Request-Timestamp", h["X-Slack-Request-Timestamp"]),
                        ("X-Slack-Signature", h["X-Slack-Signature"]), ("X-Slack-Signature", "v0=" + "0" * 64)], body)


def duplicated_valid_signature_header(bot: BotServer) -> Reply:
    body = slash_body(bot)
    h = headers(body)
    return raw_request(bot, "POST", "/slack/events",
                       [("Content-Type", FORM), ("Content-Length", str(len(body))),
                        ("X-Slack-Request-Timestamp", h["X-Slack-Request-Timestamp"]),
                        ("X-Slack-Signature", h["X-Slack-Signature"]), ("X-Slack-Signature", h["X-Slack-Signature"])], body)


def event_signed_with_wrong_secret(bot: BotServer) -> Reply:
    body = mention_body()
    return bot.post(body, headers(body, content_type=JSON, secret="not-the-signing-secret"))


def action_with_bad_signature(bot: BotServer) -> Reply:
    payload = {"type": "block_actions", "user": {"id": "U0REP"}, "channel": {"id": "C0SALES"}, "team": {"id": "T0TEST"},
               "actions": [{"action_id": "share", "value": "ask|1", "type": "button"}]}
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return bot.post(body, headers(body, signature="v0=" + "ab" * 32))


def _foreign_event(**ids: str) -> bytes:
    payload = json.loads(mention_body())
    payload.update(ids)
    return json.dumps(payload).encode()


def event_of_another_app(bot: BotServer) -> Reply:
    body = _foreign_event(api_app_id="A0SOMEONEELSE")
    return bot.post(body, headers(body, content_type=JSON))


def event_from_another_workspace(bot: BotServer) -> Reply:
    body = _foreign_event(team_id="T0ELSEWHERE")
    return bot.post(body, headers(body, content_type=JSON))


def command_from_another_workspace(bot: BotServer) -> Reply:
    body = slash_body(bot, team_id="T0ELSEWHERE")
    return bot.post(body, headers(body))


def command_of_another_app(bot: BotServer) -> Reply:
    body = slash_body(bot, api_app_id="A0SOMEONEELSE")
    return bot.post(body, headers(body))


def action_of_another_app(bot: BotServer) -> Reply:
    payload = {"type": "block_actions", "user": {"id": "U0REP"}, "channel": {"id": "C0SALES"}, "team": {"id": "T0TEST"},
               "api_app_id": "A0SOMEONEELSE", "response_url": bot.slack.response_url("x"),
               "actions": [{"action_id": "jb_share_to_channel", "value": "ask|q:what is ROI?", "type": "button"}]}
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return bot.post(body, headers(body))


@dataclass(frozen=True)
class Case:
    send: Callable[[BotServer], Reply]
    statuses: tuple[int, ...]


CORPUS: dict[str, Case] = {
    "missing signature": Case(missing_signature, (401,)),
    "missing timestamp": Case(missing_timestamp, (401,)),
    "missing both headers": Case(missing_both, (401,)),
    "bad signature (wrong secret)": Case(wrong_secret, (401,)),
    "signature over a different body": Case(signature_over_other_body, (401,)),
    "wrong version prefix v1=": Case(wrong_version_prefix, (401,)),
    "no version prefix": Case(no_version_prefix, (401,)),
    "truncated signature": Case(truncated_signature, (401,)),
    "non-hex signature": Case(non_hex_signature, (401,)),
    "uppercase hex signature": Case(uppercase_hex_signature, (401,)),
    "stale timestamp (>5 min old)": Case(stale_timestamp, (401,)),
    "future timestamp (>5 min ahead)": Case(future_timestamp, (401,)),
    "non-numeric timestamp": Case(non_numeric_timestamp, (401,)),
    "fractional timestamp": Case(float_timestamp, (401,)),
    "replay with original timestamp (10 min old)": Case(replay_ten_minutes_old, (401,)),
    "body tampered after signing (extra param)": Case(tampered_extra_param, (401,)),
    "body tampered after signing (text changed)": Case(tampered_text, (401,)),
    "signature of another valid request": Case(signature_of_another_valid_request, (401,)),
    "slash command missing required fields (signed)": Case(slash_missing_required_fields, (400,)),
    "garbage form body (signed)": Case(slash_garbage_form, (400, 404)),
    "malformed JSON event body (signed)": Case(malformed_json_event, (400,)),
    "JSON body that is not an object (signed)": Case(json_not_an_object, (400,)),
    "malformed interactive payload (signed)": Case(malformed_interactive_payload, (400,)),
    "oversize body (>1 MB) refused unread": Case(oversize_body_unread, (413,)),
    "negative Content-Length": Case(negative_content_length, (400, 413)),
    "unknown slash command /notours (signed)": Case(unknown_slash_command, (404,)),
    "wrong content type text/plain (signed)": Case(wrong_content_type, (415,)),
    "multipart content type (signed)": Case(multipart_content_type, (415,)),
    "GET /slack/events": Case(get_on_events, (405,)),
    "PUT /slack/events (signed)": Case(put_on_events, (405,)),
    "wrong path (signed)": Case(wrong_path, (404,)),
    "dot-dot path (signed)": Case(path_with_suffix, (404,)),
    "empty body (signed)": Case(empty_body_signed, (400,)),
    "empty body (unsigned)": Case(empty_body_unsigned, (400, 401)),
    "url_verification with bad signature": Case(url_verification_bad_signature, (401,)),
    "event type with no listener (signed)": Case(event_without_listener, (404,)),
    "duplicated X-Slack-Signature (valid + bogus)": Case(duplicated_signature_header, (401,)),
    "duplicated X-Slack-Signature (valid twice)": Case(duplicated_valid_signature_header, (401,)),
    "app_mention event, wrong secret": Case(event_signed_with_wrong_secret, (401,)),
    "block action, bad signature": Case(action_with_bad_signature, (401,)),
    "event of another app (signed)": Case(event_of_another_app, (403,)),
    "event from another workspace (signed)": Case(event_from_another_workspace, (403,)),
    "slash command from another workspace (signed)": Case(command_from_another_workspace, (403,)),
    "slash command of another app (signed)": Case(command_of_another_app, (403,)),
    "button of another app (signed)": Case(action_of_another_app, (403,)),
}


def watched(calls: list[dict[str, Any]]) -> list[str]:
    return [c["method"] for c in calls if c["method"].startswith(WATCHED)]


def test_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 22


@pytest.mark.parametrize("name", list(CORPUS))
def test_bad_request_is_refused(name: str, shared_bot: BotServer, dispatches: list[int], listener_runs: list[str]) -> None:
    bot, case = shared_bot, CORPUS[name]
    before = len(bot.slack.calls)
    reply = case.send(bot)
    assert reply.status in case.statuses, f"{name}: HTTP {reply.status} {reply.body[:200]!r}"
    time.sleep(SETTLE_S if dispatches else GUARD_SETTLE_S)
    assert listener_runs == [], f"{name}: a listener ran: {listener_runs}"
    assert watched(bot.slack.calls[before:]) == [], f"{name}: posted {watched(bot.slack.calls[before:])}"


def test_positive_control_signed_help_is_answered(bot: BotServer, listener_runs: list[str]) -> None:
    reply = bot.slash("help")
    assert reply.status == 200
    assert listener_runs == ["journey"]
    acked = reply.json()
    assert acked["response_type"] == "ephemeral" and "/journey" in acked["text"]
    # The same request builders as the corpus, correctly signed, are accepted too.
    body = slash_body(bot, "help")
    assert bot.post(body, headers(body)).status == 200
    event = mention_body()
    assert bot.post(event, headers(event, content_type=JSON)).status == 200
    bot.slack.wait_for(lambda calls: any(c["method"] == "chat.postMessage" for c in calls), timeout=10)
    assert listener_runs == ["journey", "journey", "on_mention"]


def test_valid_url_verification_answers_the_challenge(bot: BotServer, listener_runs: list[str]) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "legacy"}).encode()
    reply = bot.post(body, headers(body, content_type=JSON))
    assert reply.status == 200 and b"c-123" in reply.body
    assert listener_runs == []
