"""SandboxServer: the synthetic portal behind HubSpot's HTTP API on 127.0.0.1.

Auth (401), scopes (403 MISSING_SCOPES), rolling rate limits (429 RATE_LIMIT, with
X-HubSpot-RateLimit-* headers on non-search responses) and injected faults are all
applied here, so the gateway meets the same failure modes as against HubSpot.
"""

from __future__ import annotations

import collections
import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox import admin, routes
from sandbox.faults import FaultInjector, FaultPlan, RollingWindow
from sandbox.model import OBJECT_TYPES, Portal
from sandbox.stage_moves import StageMove, advance_deals, move_deal
from sandbox.webhooks import WebhookSender, WebhookTarget

Handler = Callable[[re.Match[str], dict[str, list[str]], dict[str, Any]], routes.Response]
TYPES = "|".join(OBJECT_TYPES)


class SandboxServer:
    """A HubSpot-compatible server for one Portal; start() runs it in a background thread."""

    def __init__(
        self,
        portal: Portal,
        *,
        token: str = "sandbox-token",
        scopes: Iterable[str] | None = None,
        rate_limit: tuple[int, float] | None = (100, 10.0),
        search_rate_limit: tuple[int, float] | None = (5, 1.0),
        faults: FaultPlan | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        daily_limit: int = 250_000,
        webhooks: WebhookTarget | None = None,
    ) -> None:
        self.portal = portal
        self.webhooks = WebhookSender(webhooks) if webhooks is not None else None
        self.token = token
        self.scopes: set[str] | None = set(scopes) if scopes is not None else None
        self.rate_window = RollingWindow(*rate_limit) if rate_limit else None
        self.search_window = RollingWindow(*search_rate_limit) if search_rate_limit else None
        self.faults = FaultInjector(faults)
        self.daily_limit = daily_limit
        self.counts: collections.Counter[str] = collections.Counter()
        self.statuses: collections.Counter[int] = collections.Counter()
        self.rate_limited = 0  # 429s from the enforced limits (not injected faults)
        self._lock = threading.Lock()
        self._clock_ms = portal.now_ms
        self._thread: threading.Thread | None = None
        self._serving = False
        self._httpd = ThreadingHTTPServer((host, port), _RequestHandler)
        self._httpd.daemon_threads = True
        self._httpd.sandbox = self  # type: ignore[attr-defined]
        self._routes = self._build_routes()

    # --- lifecycle -------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="hubspot-sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Foreground mode (the `journeybot sandbox` command); returns after stop()."""
        self._serving = True
        self._httpd.serve_forever()

    def stop(self) -> None:
        """Stop serving and free the port (safe to call on a server that never started)."""
        if self._serving or self._thread is not None:
            self._httpd.shutdown()
        self._serving = False
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.webhooks is not None:
            self.webhooks.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # --- test controls ---------------------------------------------------------------
    @property
    def total_requests(self) -> int:
        return sum(self.counts.values())

    def reset_counters(self) -> None:
        with self._lock:
            self.counts.clear()
            self.statuses.clear()
            self.rate_limited = 0

    def update_objects(self, object_type: str, ids: Iterable[int], properties: dict[str, str]) -> int:
        """Modify records as a HubSpot user would; bumps hs_lastmodifieddate. Returns the ms stamp."""
        with self._lock:
            self._clock_ms = max(self._clock_ms + 1000, int(time.time() * 1000))
            stamp = self._clock_ms
            for object_id in ids:
                obj = self.portal.objects[object_type][int(object_id)]
                new_stage = properties.get("dealstage")
                if object_type == "deals" and new_stage and new_stage != obj.properties.get("dealstage"):
                    move_deal(self.portal, obj.id, new_stage, stamp)  # a stage change as HubSpot records one
                obj.properties.update(properties)
                obj.properties["hs_lastmodifieddate"] = stamp
                if "lastmodifieddate" in obj.properties:
                    obj.properties["lastmodifieddate"] = stamp
                obj.updated_ms = stamp
            return stamp

    def move_deal(self, deal_id: int, stage_id: str, at_ms: int | None = None) -> StageMove:
        """Move one deal as a HubSpot user would (default: now); a webhook follows when configured."""
        with self._lock:
            move = move_deal(self.portal, deal_id, stage_id, self._stamp(at_ms))
        if self.webhooks is not None:
            self.webhooks.send([move])
        return move

    def advance_deals(self, count: int, *, seed: int | None = None, at_ms: int | None = None) -> list[StageMove]:
        """Time passes: `count` random open deals move one stage forward, one webhook batch for all."""
        with self._lock:
            moves = advance_deals(self.portal, count, self._stamp(at_ms), random.Random(seed))
        if self.webhooks is not None:
            self.webhooks.send(moves)
        return moves

    def _stamp(self, at_ms: int | None) -> int:
        """The time of a change: given, else now and never before the previous change (lock held)."""
        if at_ms is None:
            self._clock_ms = max(self._clock_ms + 1000, int(time.time() * 1000))
            return self._clock_ms
        self._clock_ms = max(self._clock_ms, at_ms)
        return at_ms

    # --- routing ---------------------------------------------------------------------
    def _build_routes(self) -> list[tuple[str, re.Pattern[str], str, Handler]]:
        p = self.portal
        table: list[tuple[str, str, str, Handler]] = [
            ("GET", rf"/crm/v3/objects/(?P<t>{TYPES})", "list",
             lambda m, q, b: routes.list_objects(p, m["t"], q)),
            ("POST", rf"/crm/v3/objects/(?P<t>{TYPES})", "create",
             lambda m, q, b: self._create(m["t"], b)),
            ("GET", rf"/crm/v3/objects/(?P<t>{TYPES})/(?P<id>[^/]+)", "get",
             lambda m, q, b: routes.get_object(p, m["t"], m["id"], q)),
            ("POST", rf"/crm/v3/objects/(?P<t>{TYPES})/batch/read", "batch_read",
             lambda m, q, b: routes.batch_read(p, m["t"], b)),
            ("POST", rf"/crm/v3/objects/(?P<t>{TYPES})/search", "search",
             lambda m, q, b: routes.search(p, m["t"], b)),
            ("GET", r"/crm/v3/pipelines/(?P<t>\w+)(?:/(?P<pid>[^/]+))?", "pipelines",
             lambda m, q, b: routes.pipelines(p, m["t"], m["pid"])),
            ("GET", r"/crm/v3/owners", "owners", lambda m, q, b: routes.owners(p, q)),
            ("GET", rf"/crm/v4/objects/(?P<t>{TYPES})/(?P<id>\d+)/associations/(?P<to>\w+)", "assoc_list",
             lambda m, q, b: routes.association_page(p, m["t"], m["id"], m["to"], q)),
            ("POST", r"/crm/v4/associations/(?P<t>\w+)/(?P<to>\w+)/batch/read", "assoc_batch",
             lambda m, q, b: routes.association_batch(p, m["t"], m["to"], b)),
            ("GET", r"/crm/v3/properties/(?P<t>\w+)", "properties",
             lambda m, q, b: routes.properties(p, m["t"]) if m["t"] in OBJECT_TYPES else routes.not_found()),
            ("POST", r"/oauth/v2/private-apps/get/access-token-info", "token_info",
             lambda m, q, b: self._token_info(b)),
            ("POST", admin.PREFIX + r"/deals/(?P<id>\d+)/stage", "admin_move",
             lambda m, q, b: admin.move(self, m["id"], b)),
            ("POST", admin.PREFIX + r"/deals/advance", "admin_advance", lambda m, q, b: admin.advance(self, b)),
        ]
        return [(method, re.compile(pattern + r"/?$"), name, fn) for method, pattern, name, fn in table]

    def _create(self, object_type: str, body: dict[str, Any]) -> routes.Response:
        with self._lock:  # ids are picked from what is there: one create at a time
            return routes.create_object(self.portal, object_type, body)

    def _token_info(self, body: dict[str, Any]) -> routes.Response:
        if body.get("tokenKey") != self.token:
            return routes.error(401, "The token is invalid or expired.", "INVALID_AUTHENTICATION")
        scopes = sorted(self.scopes) if self.scopes is not None else sorted(_ALL_SCOPES)
        return 200, {"userId": 9_000_000, "hubId": 4_242_424, "appId": 77_777, "scopes": scopes}

    def _scope_for(self, name: str, match: re.Match[str]) -> list[str]:
        groups = match.groupdict()
        if name == "owners":
            return ["crm.objects.owners.read"]
        if name == "pipelines":
            return ["crm.objects.deals.read"]
        if name == "properties":
            t = groups["t"]
            return [f"crm.schemas.{t}.read"] if t in ("deals", "companies", "contacts") else [routes.required_scope(t)]
        if name == "token_info" or name.startswith("admin_"):
            return []
        if name == "create":
            return [routes.write_scope(groups["t"])]
        needed = [routes.required_scope(groups["t"])]
        if groups.get("to") in OBJECT_TYPES:
            needed.append(routes.required_scope(groups["to"]))
        return needed

    def handle(self, method: str, raw_path: str, headers: dict[str, str], raw_body: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        """One request through auth, scopes, limits, faults and the route."""
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query)
        for verb, pattern, name, fn in self._routes:  # noqa: B007 - the matching route is used after the break
            match = pattern.match(parts.path)
            if verb == method and match:
                break
        else:
            return (*routes.error(404, f"No route for {method} {parts.path}", "NOT_FOUND"), {})
        control = name.startswith("admin_")  # test controls: token-checked, never counted, limited or faulted
        key = name
        if "t" in match.groupdict() and match["t"]:
            key += f":{match['t']}" + (f"->{match['to']}" if match.groupdict().get("to") else "")
        if not control:
            with self._lock:
                self.counts[key] += 1
            self.faults.delay()
        if name != "token_info":
            auth = headers.get("authorization", "")
            if not auth.startswith("Bearer ") or not auth[7:].strip():
                return (*routes.error(401, "Authentication credentials not found. This API supports OAuth 2.0 "
                                      "authentication.", "INVALID_AUTHENTICATION"), {})
            if auth[7:].strip() != self.token:
                return (*routes.error(401, "The OAuth token used to make this call expired or is invalid.",
                                      "INVALID_AUTHENTICATION"), {})
            missing = [s for s in self._scope_for(name, match) if self.scopes is not None and s not in self.scopes]
            if missing:
                return (*routes.error(
                    403, "This app hasn't been granted all required scopes to make this call. Read more about "
                    "required scopes here: https://developers.hubspot.com/scopes.", "MISSING_SCOPES",
                    errors=[{"message": "One or more of the following scopes are required.",
                             "context": {"requiredGranularScopes": missing}}],
                    links={"scopes": "https://developers.hubspot.com/scopes"}), {})
        if control:
            try:
                admin_body = json.loads(raw_body) if raw_body else {}
            except ValueError:
                return (*routes.error(400, "Invalid JSON body"), {})
            return (*fn(match, query, admin_body if isinstance(admin_body, dict) else {}), {})
        extra: dict[str, str] = {}
        window = self.search_window if name == "search" else self.rate_window
        if window is not None:
            ok, remaining = window.admit()
            if name != "search":
                extra = {"X-HubSpot-RateLimit-Max": str(window.limit),
                         "X-HubSpot-RateLimit-Remaining": str(remaining),
                         "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(window.window_s * 1000)),
                         "X-HubSpot-RateLimit-Daily": str(self.daily_limit),
                         "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self.daily_limit - self.total_requests))}
            if not ok:
                with self._lock:
                    self.rate_limited += 1
                policy = "SECONDLY" if name == "search" else "TEN_SECONDLY_ROLLING"
                status, body = routes.error(429, "You have reached your secondly limit." if name == "search"
                                            else "You have reached your ten_secondly_rolling limit.", "RATE_LIMITS")
                body["errorType"] = "RATE_LIMIT"
                body["policyName"] = policy
                return status, body, extra
        fault = self.faults.decide()
        if fault is not None:
            if fault.status == 429:
                status, body = routes.error(429, "You have reached your ten_secondly_rolling limit.", "RATE_LIMITS")
                body.update(errorType="RATE_LIMIT", policyName="TEN_SECONDLY_ROLLING")
            else:
                status, body = routes.error(fault.status, "internal error (injected)", "INTERNAL_ERROR")
            if fault.retry_after is not None:
                extra = {**extra, "Retry-After": f"{fault.retry_after:g}"}
            return status, body, extra
        try:
            body_json = json.loads(raw_body) if raw_body else {}
        except ValueError:
            return (*routes.error(400, "Invalid JSON body"), extra)
        status, payload = fn(match, query, body_json)
        return status, payload, extra


_ALL_SCOPES = {"crm.objects.deals.read", "crm.objects.companies.read", "crm.objects.contacts.read",
               "crm.objects.owners.read", "crm.schemas.deals.read", "crm.schemas.companies.read",
               "crm.schemas.contacts.read", "crm.objects.contacts.write", "crm.objects.deals.write",
               "crm.objects.companies.write"}


class _RequestHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive so urllib3's pooled connections are reused, as with HubSpot."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (quiet by default)
        return

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        sandbox: SandboxServer = self.server.sandbox  # type: ignore[attr-defined]
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            status, body, extra = sandbox.handle(method, self.path, headers, raw)
        except Exception as exc:  # a sandbox bug must surface as a 500, never a hang
            status, body = routes.error(500, f"sandbox error: {exc!r}", "INTERNAL_ERROR")
            extra = {}
        with sandbox._lock:
            sandbox.statuses[status] += 1
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")
