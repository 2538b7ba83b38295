"""Posting rendered messages: ephemeral or in channel, in threads, with files."""

from __future__ import annotations

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
