"""One leader among clock processes, and one claim per run, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy.engine import Engine

from scheduler.leader import Leader
from storage.engine import create_all, session_scope
from storage.subscriptions import ScheduledRun, add_subscription, claim_run

T0 = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.UTC)


def test_only_one_leader_and_the_follower_takes_over(engine: Engine) -> None:
    create_all(engine)
    now = [1000.0]
    first = Leader(engine, holder="clock-a", ttl_s=60, clock=lambda: now[0])
    second = Leader(engine, holder="clock-b", ttl_s=60, clock=lambda: now[0])
    assert first.acquire() is True
    assert second.acquire() is False
    now[0] += 30
    assert first.acquire() is True  # renewed
    assert second.acquire() is False
    first.release()
    assert second.acquire() is True
    assert first.acquire() is False
    second.release()


def test_a_dead_leader_is_replaced(engine: Engine) -> None:
    create_all(engine)
    now = [1000.0]
    dead = Leader(engine, holder="clock-a", ttl_s=60, clock=lambda: now[0])
    alive = Leader(engine, holder="clock-b", ttl_s=60, clock=lambda: now[0])
    assert dead.acquire()
    # it dies: no renewal (PostgreSQL: its connection, and so its lock, goes away)
    dead._drop_connection()
    now[0] += 61
    assert alive.acquire() is True
    alive.release()


def test_concurrent_claims_of_one_run(engine: Engine) -> None:
    create_all(engine)
    with session_scope(engine) as session:
        sub_id = add_subscription(session, channel_id="C1", kind="digest", cron="0 9 * * mon").id
    assert sub_id is not None
    won: list[ScheduledRun | None] = []
    barrier = threading.Barrier(4)

    def claim() -> None:
        barrier.wait()
        with session_scope(engine) as session:
            won.append(claim_run(session, sub_id, "2025-W23", fire_time=T0, now=T0))

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sum(r is not None for r in won) == 1

    # a stale run is taken over by exactly one of several workers, too
    later = T0 + dt.timedelta(minutes=11)
    retakes: list[ScheduledRun | None] = []
    barrier2 = threading.Barrier(4)

    def retake() -> None:
        barrier2.wait()
        with session_scope(engine) as session:
            retakes.append(claim_run(session, sub_id, "2025-W23", now=later, lease_s=600))

    threads = [threading.Thread(target=retake) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    taken = [r for r in retakes if r is not None]
    assert len(taken) == 1 and taken[0].attempts == 2 and taken[0].fire_time == T0
