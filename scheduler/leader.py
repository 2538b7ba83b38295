"""The clock's leader lease: however many clock processes start, one schedules.

APScheduler 3's job store must not be driven by two schedulers at once. On PostgreSQL
the lease is a session advisory lock held on a dedicated connection for the process's
lifetime (it ends by itself when the process or the connection dies); elsewhere (SQLite)
it is a row with a holder id and an expiry that the leader renews and a follower takes
over once it expired.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from storage.engine import session_scope
from storage.subscriptions import drop_lease, take_lease

log = logging.getLogger(__name__)

DEFAULT_NAME = "journeybot-clock"


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a lease name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Leader:
    """`acquire()` tries to become (or stay) leader and says whether this process leads;
    call it periodically (well within `ttl_s`): a follower keeps trying, a leader renews."""

    def __init__(self, engine: Engine, *, name: str = DEFAULT_NAME, holder: str | None = None, ttl_s: float = 60.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.name = name
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.ttl_s = ttl_s
        self.clock = clock
        self.is_leader = False
        self._connection: Connection | None = None
        self.uses_advisory_lock = engine.dialect.name == "postgresql"

    def acquire(self) -> bool:
        try:
            self.is_leader = self._advisory() if self.uses_advisory_lock else self._lease_row()
        except Exception as exc:  # noqa: BLE001 - a database hiccup means "not leader now", retried later
            log.warning("leader lease check failed: %s", exc)
            self._drop_connection()
            self.is_leader = False
        return self.is_leader

    def release(self) -> None:
        """Step down (at shutdown) so a follower takes over at once, not after the ttl."""
        try:
            if self.uses_advisory_lock:
                if self._connection is not None and self.is_leader:
                    self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(self.name)})
            else:
                with session_scope(self.engine) as session:
                    drop_lease(session, self.name, self.holder)
        finally:
            self._drop_connection()
            self.is_leader = False

    def _advisory(self) -> bool:
        if self._connection is not None and self.is_leader:
            self._connection.execute(text("SELECT 1"))  # still connected means still locked
            return True
        if self._connection is None:
            self._connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = self._connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(self.name)}).scalar()
        return bool(got)

    def _lease_row(self) -> bool:
        with session_scope(self.engine) as session:
            return take_lease(session, self.name, self.holder, ttl_s=self.ttl_s, now=self.clock())

    def _drop_connection(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # noqa: BLE001 - already broken
                pass
            self._connection = None
