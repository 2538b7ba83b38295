"""What Slack says about channels: whether the bot can post in one, who created it, and
which channels a user is in (App Home shows a user only those)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)
MEMBERSHIP_TTL_S = 60.0
INFO_TTL_S = 5.0


class ChannelDirectory:
    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._memberships: dict[str, tuple[float, frozenset[str]]] = {}
        self._infos: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    def why_not_postable(self, channel: str) -> str | None:
        """None when the bot can post in `channel`, else what to do about it."""
        info = self._info(channel)
        if info is None:
            return "I can't see this channel: invite me first (`/invite @journeybot`)."
        if info.get("is_archived"):
            return "This channel is archived: nothing can be posted here."
        if not info.get("is_member") and not info.get("is_im"):
            return "I'm not in this channel: invite me first (`/invite @journeybot`), then subscribe again."
        return None

    def creator(self, channel: str) -> str | None:
        """The channel's creator: the Web API shows bots no channel managers, so the
        creator stands in for them (beside the configured admins)."""
        creator = (self._info(channel) or {}).get("creator")
        return str(creator) if creator else None

    def _info(self, channel: str) -> dict[str, Any] | None:
        """conversations.info, kept for a few seconds: one subscribe asks twice; None when
        the channel does not exist for the bot."""
        now = time.monotonic()
        with self._lock:
            cached = self._infos.get(channel)
            if cached and now - cached[0] < INFO_TTL_S:
                return cached[1]
        try:
            info: dict[str, Any] | None = dict(self._client.conversations_info(channel=channel)["channel"])
        except SlackApiError as exc:
            if exc.response.get("error") != "channel_not_found":
                raise
            info = None
        with self._lock:
            self._infos[channel] = (now, info)
        return info

    def channels_of(self, user: str) -> frozenset[str]:
        """Channels `user` is in that the bot can see (private ones only where it is a member)."""
        now = time.monotonic()
        with self._lock:
            cached = self._memberships.get(user)
            if cached and now - cached[0] < MEMBERSHIP_TTL_S:
                return cached[1]
        found: set[str] = set()
        cursor: str | None = None
        while True:
            page = self._client.users_conversations(user=user, types="public_channel,private_channel", limit=200,
                                                    exclude_archived=True, cursor=cursor)
            found.update(c["id"] for c in page.get("channels") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        result = frozenset(found)
        with self._lock:
            self._memberships[user] = (now, result)
        return result
