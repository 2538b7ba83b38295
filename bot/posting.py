"""Posting rendered messages: ephemeral or in channel, in threads, with files."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.message import SlackMessage

log = logging.getLogger(__name__)


def post(
    client: WebClient,
    message: SlackMessage,
    *,
    channel: str,
    user: str | None = None,
    ephemeral: bool = False,
    thread_ts: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> str | None:
    """Post `message`; returns the message ts (None for ephemeral ones). Files (charts,
    heatmaps) are uploaded to the channel, in the thread when there is one. `metadata`
    (in-channel only) is Slack message metadata: the scheduler tags its posts with it so
    a restarted run can find what it already posted."""
    blocks = message.payload_blocks()
    if ephemeral and user:
        client.chat_postEphemeral(channel=channel, user=user, text=message.text, blocks=blocks, thread_ts=thread_ts)
        ts = None
    else:
        extra: dict[str, Any] = {"metadata": metadata} if metadata else {}
        response = client.chat_postMessage(channel=channel, text=message.text, blocks=blocks, thread_ts=thread_ts, **extra)
        ts = response.get("ts")
    upload(client, message.files, channel=channel, thread_ts=ts or thread_ts)
    return ts


def upload(client: WebClient, files: Sequence[Path], *, channel: str, thread_ts: str | None) -> None:
    """Share charts and tables in the channel (in the thread, when there is one); a file
    Slack refuses is logged, the message it belongs to stands."""
    for path in files:
        try:
            client.files_upload_v2(channel=channel, file=str(path), filename=path.name, title=path.stem, thread_ts=thread_ts)
        except SlackApiError as exc:
            log.warning("could not upload %s: %s", path.name, exc.response.get("error"))


TAGGED_SEARCH_MARGIN = dt.timedelta(hours=1)  # clocks of this host and Slack's may differ
TAGGED_SEARCH_PAGES = 5


def find_tagged(client: WebClient, channel: str, *, event_type: str, field: str, key: str,
                since: dt.datetime) -> str | None:
    """The ts of a message in `channel`, posted after about `since`, whose metadata has
    `event_type` and `field` == `key`: how a job that may have posted before it died (a
    scheduled run, a nudge) finds out before posting again."""
    oldest = f"{(since - TAGGED_SEARCH_MARGIN).timestamp():.6f}"
    cursor: str | None = None
    for _ in range(TAGGED_SEARCH_PAGES):
        response = client.conversations_history(channel=channel, oldest=oldest, limit=200, include_all_metadata=True,
                                                cursor=cursor)
        for message in response.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == event_type and (metadata.get("event_payload") or {}).get(field) == key:
                return str(message.get("ts"))
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not response.get("has_more") or not cursor:
            return None
    return None
