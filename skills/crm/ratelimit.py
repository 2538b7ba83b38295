"""Client-side pacing: one rolling-window limiter per process, token and API host.

A slot counts from when its response *arrives*, not when it was sent: the server sees
a request somewhere between the two, so counting from arrival can never put more than
`limit` requests into any server-side window, and our own pacing never causes a 429.
"""

from __future__ import annotations

import collections
import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class RateLimiter:
    """At most `limit` requests in any rolling `window_s` (in flight ones included)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._done: collections.deque[float] = collections.deque()
        self._in_flight = 0
        self._cond = threading.Condition()
        self.waited_s = 0.0

    def acquire(self) -> None:
        started = time.monotonic()
        with self._cond:
            while True:
                now = time.monotonic()
                while self._done and now - self._done[0] >= self.window_s:
                    self._done.popleft()
                if len(self._done) + self._in_flight < self.limit:
                    self._in_flight += 1
                    break
                timeout = self.window_s - (now - self._done[0]) if self._done else None
                self._cond.wait(timeout=timeout)
        self.waited_s += time.monotonic() - started

    def release(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._done.append(time.monotonic())
            self._cond.notify_all()

    @contextmanager
    def slot(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()


_REGISTRY: dict[tuple[str, str, str, int, float], RateLimiter] = {}
_REGISTRY_LOCK = threading.Lock()


def shared_limiter(kind: str, token: str, base_url: str, limit: int, window_s: float) -> RateLimiter:
    """The process-wide limiter for this token on this host (HubSpot limits per app)."""
    digest = hashlib.sha256(token.encode()).hexdigest()[:16]  # never keep the token itself
    key = (kind, digest, base_url, limit, window_s)
    with _REGISTRY_LOCK:
        limiter = _REGISTRY.get(key)
        if limiter is None:
            limiter = _REGISTRY[key] = RateLimiter(limit, window_s)
        return limiter
