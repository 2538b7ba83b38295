"""HTTP mode: a WSGI application with Slack's endpoint, HubSpot's webhooks (when
configured) and a health check, served by gunicorn in production (`web` in the Procfile)
and by a threading server in tests."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

SLACK_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
HUBSPOT_PATH = "/hubspot/webhooks"
MAX_BODY = 1_000_000  # Slack's payloads are far smaller; a larger body is refused unread
CONTENT_TYPES = ("application/x-www-form-urlencoded", "application/json")  # all Slack ever sends
TIMESTAMP = re.compile(r"[0-9]{1,12}")
SLASH_FIELDS = ("command", "channel_id", "user_id", "team_id")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def post_length(environ: dict[str, Any], max_body: int) -> int | tuple[str, str]:
    """The body length of a POST within `max_body`, else (status, reason) to refuse it with
    (the body is never read then)."""
    if environ.get("REQUEST_METHOD") != "POST":
        return "405 Method Not Allowed", "method not allowed"
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    if length < 0 or length > max_body:
        return "413 Content Too Large", "request body too large"
    return length


def refuse(start_response: Callable[..., Any], status: str, reason: str) -> list[bytes]:
    headers = [("Content-Type", "text/plain")] + ([("Allow", "POST")] if status.startswith("405") else [])
    start_response(status, headers)
    return [reason.encode()]


def make_wsgi_app(app: App, *, hubspot: WSGIApp | None = None) -> WSGIApp:
    """`hubspot`: the handler of HubSpot's webhooks; without it that path is 404 like any other."""
    slack = SlackRequestHandler(app)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == HEALTH_PATH:
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"ok": true}']
        if path == HUBSPOT_PATH and hubspot is not None:
            return hubspot(environ, start_response)
        if path != SLACK_PATH:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        length = post_length(environ, MAX_BODY)
        if isinstance(length, tuple):
            return refuse(start_response, *length)
        refusal = _refusal(environ, length)
        if refusal is not None:
            start_response(refusal, [("Content-Type", "text/plain")])
            return [refusal.split(" ", 1)[1].lower().encode()]
        return slack(environ, start_response)

    return application


def _refusal(environ: dict[str, Any], length: int) -> str | None:
    """The status line for a request that is not shaped like anything Slack sends, else
    None. Bolt would raise on these (500) or, for a slash command without its ids, run the
    listener until it hits the missing field; the signature is still Bolt's to check.
    On success the body is put back in `wsgi.input` for Bolt to read."""
    content_type = (environ.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()
    if content_type not in CONTENT_TYPES:
        return "415 Unsupported Media Type"
    if not TIMESTAMP.fullmatch(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or ""):
        return "401 Unauthorized"  # absent or not an integer: Bolt's verifier would raise on int()
    raw = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(raw)
    try:
        body = raw.decode("utf-8")
        if not body:
            return "400 Bad Request"
        if content_type == "application/json" or body.startswith("{"):
            payload = json.loads(body)
            ok = isinstance(payload, dict) and isinstance(payload.get("type"), str)
        else:
            form = dict(parse_qsl(body, keep_blank_values=True))
            if "payload" in form:
                payload = json.loads(form["payload"])
                ok = isinstance(payload, dict) and isinstance(payload.get("type"), str)
            elif "command" in form:
                ok = all(form.get(name) for name in SLASH_FIELDS)
            else:
                ok = "ssl_check" in form
    except ValueError:  # UnicodeDecodeError and JSONDecodeError included
        return "400 Bad Request"
    return None if ok else "400 Bad Request"
