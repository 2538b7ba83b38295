"""A Slack user's time zone, from `users.info` (`tz`, else `tz_offset`), cached per
process and workspace (shared by every `SlackTimeZones` of the process unless given a cache
of its own):
quiet hours are the rep's own wall clock. A user whose zone cannot be read is treated as
UTC, and that is logged once per user (not cached: the next ask tries again).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.workspace import workspace_of

log = logging.getLogger(__name__)

_ZONES: dict[tuple[str, str], dt.tzinfo] = {}
_WARNED: set[tuple[str, str]] = set()
_LOCK = threading.Lock()


class SlackTimeZones:
    def __init__(self, client: Any, cache: dict[tuple[str, str], dt.tzinfo] | None = None) -> None:
        self.client = client
        self._zones = _ZONES if cache is None else cache
        self._warned = _WARNED if cache is None else set()
        self._lock = _LOCK
        self._workspace = workspace_of(client)

    def zone(self, slack_user_id: str) -> dt.tzinfo:
        key = (self._workspace, slack_user_id)
        with self._lock:
            known = self._zones.get(key)
        if known is not None:
            return known
        try:
            user = self.client.users_info(user=slack_user_id).get("user") or {}
            found = zone_of(user)
        except Exception as exc:  # noqa: BLE001 - any failure (scope, network, user gone) means UTC this time
            found, why = None, type(exc).__name__
        else:
            why = "no tz or tz_offset in users.info"
        if found is None:
            with self._lock:
                first = key not in self._warned
                self._warned.add(key)
            if first:
                log.warning("time zone of Slack user %s unknown (%s); using UTC for their quiet hours", slack_user_id, why)
            return dt.UTC
        with self._lock:
            self._zones[key] = found
        return found


def zone_of(user: dict[str, Any]) -> dt.tzinfo | None:
    """The IANA zone Slack names (daylight saving included), else the fixed offset it gives."""
    name = user.get("tz")
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    offset = user.get("tz_offset")
    if isinstance(offset, int) and -86_400 < offset < 86_400:
        return dt.timezone(dt.timedelta(seconds=offset))
    return None


def clear_cache() -> None:
    """Forget the process's zones (tests; users moved)."""
    with _LOCK:
        _ZONES.clear()
        _WARNED.clear()
