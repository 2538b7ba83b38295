"""Running a `deals` job: hand the ids of deals whose stage changed to whatever the runtime
was built with (the nudge scan, restricted to those deals). Kept apart from the webhook
endpoint so the worker needs nothing of the web side."""

from __future__ import annotations

import logging

from bot.runtime import BotRuntime
from skills.outcome import new_error_id

log = logging.getLogger(__name__)


def run_deal_changes(runtime: BotRuntime, deal_ids: list[str]) -> None:
    """Raises when the handler fails, so a durable queue tries the job again (the handler
    must be safe to repeat: nudges are exactly-once by their own record)."""
    handler = runtime.on_deal_changes
    if handler is None:
        log.info("%d deal stage changes arrived; nothing handles them in this process (the clock's scan will)",
                 len(deal_ids))
        return
    try:
        handler(deal_ids)
    except Exception:
        log.exception("handling %d deal stage changes failed (error id %s)", len(deal_ids), new_error_id())
        raise
