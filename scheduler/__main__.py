"""`python -m scheduler`: the Procfile's clock process (one leads; others wait)."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from bot.app import build_runtime
from config import load_settings
from scheduler.clock import Clock


def main() -> None:
    settings = load_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    runtime = build_runtime(settings)
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    Clock(runtime, tick_s=settings.scheduler_tick_s).run(stop)


if __name__ == "__main__":
    main()
