"""A local Slack Web API stand-in (for the demo and the tests): the real slack_sdk
WebClient talks to it over HTTP, form or JSON bodies, and it can answer `ratelimited` or
an HTTP 500 on demand. What it knows and answers is `sandbox.slack_workspace`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from sandbox.slack_workspace import SlackWorkspace


class SlackStandIn(SlackWorkspace):
    """The workspace served on 127.0.0.1 (a free port): Web API methods under /api/,
    response_url posts under /response/, file uploads under /upload/."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        """`clock` (epoch seconds, e.g. time.time) stamps message ts; default a fixed
        counter from 1700000000."""
        super().__init__(clock)
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - slack_sdk sends read methods (history, lookups) as GET
                url = urlparse(self.path)
                self._api(url.path.rsplit("/", 1)[-1], {k: v[0] for k, v in parse_qs(url.query).items()})

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
                path = urlparse(self.path).path
                if path.startswith("/upload/"):
                    stand_in._record("upload", {"file_id": path.rsplit("/", 1)[-1], "bytes": len(raw)})
                    self._send(200, {"ok": True})
                elif path.startswith("/response/"):
                    self._response_url(path.rsplit("/", 1)[-1], json.loads(raw or b"{}"))
                else:
                    self._api(path.rsplit("/", 1)[-1], stand_in._parse(raw, self.headers.get("Content-Type", "")))

            def _response_url(self, name: str, payload: dict[str, Any]) -> None:
                """A reply to a slash command or button: accepted in any conversation (that is
                what response_url is for), plain-text answers as Slack gives them."""
                payload["_url"] = name
                failure = stand_in._take_failure("response_url")
                if failure:
                    stand_in._record("response_url", payload, failed=failure)
                    self._send_text(404 if failure == "expired" else 500, "expired_url" if failure == "expired" else "internal_error")
                    return
                stand_in._record("response_url", payload)
                self._send_text(200, "ok")

            def _send_text(self, status: int, text: str) -> None:
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _api(self, method: str, params: dict[str, Any]) -> None:
                """One Web API call, whichever verb carried it: injected failure or answer."""
                params["_auth"] = self.headers.get("Authorization", "")
                failure = stand_in._take_failure(method)
                if failure:
                    stand_in._record(method, params, failed=failure)
                    limited = failure == "ratelimited"
                    self._send(429 if limited else 500, {"ok": False, "error": "ratelimited" if limited else "internal_error"},
                               {"Retry-After": "1"} if limited else None)
                    return
                answer = stand_in.answer(method, params, stand_in.port)
                time.sleep(stand_in.latency.get(method, 0.0))
                self._send(200, answer)

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"http://127.0.0.1:{self.port}/response/{name}"

    def _parse(self, raw: bytes, content_type: str) -> dict[str, Any]:
        if "application/json" in content_type:
            return dict(json.loads(raw or b"{}"))
        params: dict[str, Any] = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        for key in ("blocks", "view", "files", "metadata"):
            if isinstance(params.get(key), str):
                try:
                    params[key] = json.loads(params[key])
                except ValueError:
                    pass
        return params

    def start(self) -> SlackStandIn:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
