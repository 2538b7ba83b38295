"""The HubSpot client and the one call path every request goes through.

urllib3's Retry is switched off (total=0, raise_on_status=False) and retries happen
here instead, because each attempt must pass the process-wide rate limiter, honour
Retry-After on any status, back off with jitter, and end in a typed error. With
urllib3 retrying POSTs (search, batch reads) are skipped by default and exhaustion
surfaces as a raw MaxRetryError (see docs/hubspot.md).

An interactive caller (a person waiting at a terminal) builds the transport with
`patient=False`: a connection that fails is reported at once, because a refused or
unroutable HubSpot is a configuration problem far more often than a blip, and seven
backed-off retries would keep the person waiting minutes. Scheduled jobs stay patient.
"""

from __future__ import annotations

import collections
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hubspot import HubSpot
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.util.retry import Retry

from config.settings import Settings
from skills.crm.errors import CrmAuthError, CrmError, CrmNotFound, CrmRequestError, CrmUnavailable
from skills.crm.ratelimit import RateLimiter, shared_limiter

log = logging.getLogger(__name__)
T = TypeVar("T")
TRANSIENT = {429, 500, 502, 503, 504}
INTERACTIVE_CONNECT_TIMEOUT_S = 5.0


def build_client(settings: Settings) -> HubSpot:
    """A HubSpot client pointed at `hubspot_base_url`, with urllib3 retries disabled."""
    if settings.hubspot_access_token is None:
        raise CrmAuthError("No HubSpot access token: set JOURNEYBOT_HUBSPOT_ACCESS_TOKEN.", status=401)
    retry = Retry(total=0, connect=0, read=0, status=0, redirect=0, raise_on_status=False)
    return HubSpot(
        access_token=settings.hubspot_access_token.get_secret_value(),
        host=settings.hubspot_base_url.rstrip("/"),
        retry=retry,
    )


@dataclass
class CallStats:
    """What the gateway spent: every attempt counts, retried or not."""

    requests: int = 0
    retries: int = 0
    throttled: int = 0
    server_errors: int = 0
    connection_errors: int = 0
    by_kind: collections.Counter[str] = field(default_factory=collections.Counter)


def _body(exc: Exception) -> dict[str, Any]:
    raw = getattr(exc, "body", None)
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        return {"message": str(raw)[:200]}
    return parsed if isinstance(parsed, dict) else {}


def missing_scopes(body: dict[str, Any]) -> tuple[str, ...]:
    """Scope names from a 403 MISSING_SCOPES body (requiredGranularScopes or requiredScopes)."""
    found: list[str] = []
    contexts = [body.get("context") or {}] + [e.get("context") or {} for e in body.get("errors") or []]
    for ctx in contexts:
        for key in ("requiredGranularScopes", "requiredScopes", "missingScopes"):
            for scope in ctx.get(key) or []:
                if scope not in found:
                    found.append(str(scope))
    return tuple(found)


def _retry_after(exc: Exception) -> float | None:
    headers = getattr(exc, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def connection_reason(exc: BaseException) -> str:
    """The operating system's words for a failed connection ("Connection refused")."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TimeoutError) or "timeout" in type(current).__name__.lower():
            return "timed out"
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        nested = getattr(current, "reason", None)
        current = nested if isinstance(nested, BaseException) else (current.__cause__ or current.__context__)
    return type(exc).__name__


class Transport:
    """Runs client calls with pacing, bounded jittered retries and typed errors."""

    def __init__(self, settings: Settings, client: HubSpot | None = None, *, patient: bool = True) -> None:
        self.settings = settings
        self.patient = patient
        self.client = client or build_client(settings)
        token = self.client.access_token or ""
        base = settings.hubspot_base_url
        self.limiter: RateLimiter = shared_limiter(
            "burst", token, base, settings.hubspot_rate_limit, settings.hubspot_rate_window_s)
        self.search_limiter: RateLimiter = shared_limiter(
            "search", token, base, settings.hubspot_search_per_second, 1.0)
        self.stats = CallStats()
        self._rng = random.Random()

    def call(self, kind: str, fn: Callable[..., T], *args: Any, search: bool = False, **kwargs: Any) -> T:
        """One logical request; raises CrmAuthError, CrmNotFound, CrmRequestError or CrmUnavailable."""
        s = self.settings
        attempts = s.hubspot_max_retries + 1
        timeout: float | tuple[float, float] = s.hubspot_timeout_s
        if not self.patient:
            timeout = (min(INTERACTIVE_CONNECT_TIMEOUT_S, s.hubspot_timeout_s), s.hubspot_timeout_s)
        last_status: int | None = None
        last_reason = ""
        for attempt in range(attempts):
            limiters = [self.search_limiter, self.limiter] if search else [self.limiter]
            for limiter in limiters:
                limiter.acquire()
            try:
                self.stats.requests += 1
                self.stats.by_kind[kind] += 1
                return fn(*args, _request_timeout=timeout, **kwargs)
            except (Urllib3Error, OSError) as exc:
                self.stats.connection_errors += 1
                last_status, wait, last_reason = None, None, connection_reason(exc)
                log.warning("HubSpot %s: connection error (%s), attempt %d/%d", kind, last_reason,
                            attempt + 1, attempts)
                if not self.patient:
                    raise CrmUnavailable(f"cannot reach HubSpot at {s.hubspot_base_url} ({last_reason}); "
                                         "check JOURNEYBOT_HUBSPOT_BASE_URL and the network.",
                                         status=None, attempts=attempt + 1) from None
            except Exception as exc:  # the client's per-package ApiException classes share no base
                status = getattr(exc, "status", None)
                if not isinstance(status, int) or status not in TRANSIENT:
                    raise self._typed(kind, exc, status) from None
                last_status, wait = status, _retry_after(exc)
                if status == 429:
                    self.stats.throttled += 1
                else:
                    self.stats.server_errors += 1
                log.info("HubSpot %s: HTTP %s, attempt %d/%d", kind, status, attempt + 1, attempts)
            finally:
                for limiter in limiters:
                    limiter.release()
            if attempt + 1 < attempts:
                self.stats.retries += 1
                time.sleep(self._backoff(attempt, wait))
        if last_status is None:
            raise CrmUnavailable(
                f"cannot reach HubSpot at {s.hubspot_base_url} ({last_reason}): {kind} got a connection error "
                f"on all {attempts} attempts; no partial result was used.", status=None, attempts=attempts)
        raise CrmUnavailable(
            f"HubSpot {kind} failed {attempts} times (last: {last_status}); "
            "no partial result was used.", status=last_status, attempts=attempts)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        s = self.settings
        if retry_after is not None:
            return min(retry_after, 120.0)  # HubSpot's own hint wins; the cap guards a broken header
        ceiling = min(s.hubspot_backoff_max_s, s.hubspot_backoff_base_s * (2 ** attempt))
        return float(ceiling * (0.5 + 0.5 * self._rng.random()))

    @staticmethod
    def _typed(kind: str, exc: Exception, status: int | None) -> CrmError:
        body = _body(exc)
        message = str(body.get("message") or getattr(exc, "reason", "") or exc)[:300]
        if status == 401:
            return CrmAuthError(f"HubSpot rejected the access token ({message}). Check "
                                "JOURNEYBOT_HUBSPOT_ACCESS_TOKEN.", status=401)
        if status == 403:
            scopes = missing_scopes(body)
            named = ", ".join(scopes) if scopes else "unknown (HubSpot did not say)"
            return CrmAuthError(f"The private app lacks a scope needed for {kind}: {named}. Add it in "
                                "HubSpot (Settings > Integrations > Private apps > Scopes).",
                                status=403, missing_scopes=scopes)
        if status == 404:
            return CrmNotFound(f"{kind}: not found", status=404)
        return CrmRequestError(f"HubSpot {kind} failed with HTTP {status}: {message}", status=status)
