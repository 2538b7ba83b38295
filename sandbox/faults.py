"""Fault injection and HubSpot's rolling rate limits, server side.

Faults are what make the gateway's retry path testable: a random rate of 429s (with
or without Retry-After) and 5xx, a fixed latency, and a deterministic "fail the next
N requests" switch.
"""

from __future__ import annotations

import collections
import random
import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected failure: the status and, for 429/503, an optional Retry-After (s)."""

    status: int
    retry_after: float | None = None


@dataclass
class FaultPlan:
    """What to inject. `rate` is the share of requests that fail with one of `kinds`."""

    rate: float = 0.0
    kinds: tuple[Fault, ...] = (
        Fault(429, 0.05), Fault(429, None), Fault(500), Fault(502), Fault(503),
    )
    latency_s: float = 0.0
    seed: int = 1


class FaultInjector:
    """Thread-safe decision point: should this request fail, and how?"""

    def __init__(self, plan: FaultPlan | None = None) -> None:
        self._lock = threading.Lock()
        self._plan = plan or FaultPlan()
        self._rng = random.Random(self._plan.seed)
        self._queue: collections.deque[Fault] = collections.deque()
        self.injected = 0

    @property
    def plan(self) -> FaultPlan:
        return self._plan

    def configure(self, plan: FaultPlan) -> None:
        with self._lock:
            self._plan = plan
            self._rng = random.Random(plan.seed)

    def fail_next(self, count: int, status: int = 503, retry_after: float | None = None) -> None:
        """The next `count` requests fail with `status` (deterministic tests)."""
        with self._lock:
            self._queue.extend(Fault(status, retry_after) for _ in range(count))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._plan = FaultPlan(latency_s=0.0)

    def decide(self) -> Fault | None:
        with self._lock:
            if self._queue:
                self.injected += 1
                return self._queue.popleft()
            plan = self._plan
            if plan.rate > 0 and self._rng.random() < plan.rate:
                self.injected += 1
                return plan.kinds[int(self._rng.random() * len(plan.kinds))]
            return None

    def delay(self) -> None:
        latency = self._plan.latency_s
        if latency > 0:
            time.sleep(latency)


@dataclass
class RollingWindow:
    """HubSpot's rolling limit: at most `limit` accepted requests in any `window_s`."""

    limit: int
    window_s: float
    _stamps: collections.deque[float] = field(default_factory=collections.deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self) -> tuple[bool, int]:
        """(accepted, remaining). Rejected requests do not use up the window."""
        now = time.monotonic()
        with self._lock:
            while self._stamps and now - self._stamps[0] >= self.window_s:
                self._stamps.popleft()
            if len(self._stamps) >= self.limit:
                return False, 0
            self._stamps.append(now)
            return True, self.limit - len(self._stamps)
