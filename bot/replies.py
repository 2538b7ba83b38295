"""Where a reply goes and how it gets there.

A slash command or a button press carries a `response_url`: Slack accepts replies there
in every conversation, also where the bot is not a member (private channels, DMs between
people, channels it was never invited to), where `chat.postEphemeral` is refused. So every
reply to a command or a button goes through it; mentions and DMs (where the bot is a
member by definition) are answered with `chat.postMessage` in their thread.

Files (charts, heatmaps) follow the reply's audience: a private answer's files go to the
asker's DM with the bot, never to the channel; a public answer's files go to the channel,
or to the asker's DM when the bot cannot post there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot.message import SlackMessage
from bot.posting import post

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplyTo:
    """The conversation a request came from and how to answer into it."""

    channel: str
    user: str
    thread_ts: str | None = None
    response_url: str | None = None

    def to_dict(self) -> dict[str, str]:
        """Only what is set (see `Job.to_dict`)."""
        out = {"channel": self.channel, "user": self.user}
        out.update({k: v for k, v in (("thread_ts", self.thread_ts), ("response_url", self.response_url)) if v})
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReplyTo:
        return cls(str(data["channel"]), str(data["user"]), data.get("thread_ts"), data.get("response_url"))


def deliver(client: WebClient, message: SlackMessage, to: ReplyTo, *, ephemeral: bool, with_files: bool = True) -> None:
    """Send `message` to where the request came from; private when `ephemeral`."""
    if to.response_url:
        if not _respond(to.response_url, message, ephemeral=ephemeral):
            _post_fallback(client, message, to, ephemeral=ephemeral)
    else:
        post(client, _without_files(message), channel=to.channel, user=to.user, ephemeral=ephemeral, thread_ts=to.thread_ts)
    if with_files and message.files:
        attach(client, message.files, to, private=ephemeral)


def attach(client: WebClient, files: list[Path], to: ReplyTo, *, private: bool) -> None:
    """Upload `files` where the reply's audience can see them and nobody else."""
    if not private and _upload(client, files, to.channel, to.thread_ts):
        return
    try:
        dm = client.conversations_open(users=to.user)["channel"]["id"]
    except SlackApiError as exc:
        log.warning("could not open a DM with %s for files: %s", to.user, exc.response.get("error"))
        return
    _upload(client, files, dm, None)


def _upload(client: WebClient, files: list[Path], channel: str, thread_ts: str | None) -> bool:
    for path in files:
        try:
            client.files_upload_v2(channel=channel, file=str(path), filename=path.name, title=path.stem, thread_ts=thread_ts)
        except SlackApiError as exc:
            log.warning("could not upload %s to %s: %s", path.name, channel, exc.response.get("error"))
            return False
    return True


def _respond(url: str, message: SlackMessage, *, ephemeral: bool) -> bool:
    webhook = WebhookClient(url, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2),
                                                ServerErrorRetryHandler(max_retry_count=2)])
    try:
        response = webhook.send(text=message.text, blocks=message.payload_blocks(),
                                response_type="ephemeral" if ephemeral else "in_channel", replace_original=False)
    except Exception as exc:  # noqa: BLE001 - network failures of any kind fall back to the Web API
        log.warning("response_url unreachable: %s", type(exc).__name__)
        return False
    if response.status_code != 200:
        log.warning("response_url refused the reply: HTTP %s %s", response.status_code, (response.body or "")[:100])
        return False
    return True


def _post_fallback(client: WebClient, message: SlackMessage, to: ReplyTo, *, ephemeral: bool) -> None:
    """response_url expired (30 min, 5 uses) or failed: the Web API, then the asker's DM."""
    try:
        post(client, _without_files(message), channel=to.channel, user=to.user, ephemeral=ephemeral, thread_ts=to.thread_ts)
        return
    except SlackApiError as exc:
        log.warning("could not reply in %s: %s; trying a DM", to.channel, exc.response.get("error"))
    dm = client.conversations_open(users=to.user)["channel"]["id"]
    post(client, _without_files(message), channel=dm)


def _without_files(message: SlackMessage) -> SlackMessage:
    return SlackMessage(message.text, message.blocks)
