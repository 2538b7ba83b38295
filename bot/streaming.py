"""Posting a streamed answer into a Slack thread as the model writes it.

Text goes out through slack_sdk's `chat_stream` helper (chat.startStream / appendStream /
stopStream). The first words go out as soon as they are whole, so the reply appears
within a round trip of the model's first token; later text is sent every
`buffer_chars` characters or `flush_every_s` seconds. Where Slack refuses streaming (an
unknown method, a workspace without it, any error) the reply becomes
chat.postMessage + chat.update instead.

The final Answer closes the message: `render_final(answer)` gives the blocks shown under
the streamed text (sources, feedback buttons; not the answer text, which is already
there). When the final text is not what was streamed (the model failed and the answer
fell back to the map), the message is replaced: its text as a markdown block, then
those blocks.

Text is cut only between words, holding back a trailing run of digits, so the privacy
scrub (no email address or phone number reaches a channel) sees each one whole.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.chat_stream import ChatStream

from bot.blocks.ask import sources_line
from bot.blocks.common import context, escape, scrub
from knowledge.answers import Answer

log = logging.getLogger(__name__)

RenderFinal = Callable[[Answer], list[dict[str, Any]]]
BUFFER_CHARS = 120
FLUSH_EVERY_S = 1.0
HOLD_WORD_S = 1.0  # longest a lone unfinished word waits before it is sent anyway
UPDATE_EVERY_S = 1.5  # chat.update fallback: Slack allows about one edit a second per message
MAX_MARKDOWN_CHARS = 12_000
MAX_FALLBACK_CHARS = 3_000
SLACK_ERRORS = (SlackClientError, OSError)
_PHONE_RUN = re.compile(r"[+(]?\d[\d ().-]*$")


def source_blocks(answer: Answer) -> list[dict[str, Any]]:
    """Default closing blocks: the answer's sources as links, and its note."""
    notes = [n for n in (sources_line(answer),) if n]
    if answer.note:
        notes.append(escape(answer.note))
    return [context(*notes).to_dict()] if notes else []


def stream_to_thread(
    client: WebClient,
    events: Iterable[str | Answer],
    *,
    channel: str,
    thread_ts: str,
    team_id: str | None,
    user_id: str | None,
    render_final: RenderFinal = source_blocks,
    buffer_chars: int = BUFFER_CHARS,
    flush_every_s: float = FLUSH_EVERY_S,
    metadata: dict[str, Any] | None = None,
) -> str | None:
    """Post `events` (text deltas, then one final Answer, as `knowledge.llm_stream.stream_answer`
    yields them; "" is a heartbeat) as one reply in the thread. Returns the reply's ts, or
    None when Slack took nothing. `metadata` goes on the final message (a rerun job finds
    its answer by it)."""
    reply = _ThreadReply(client, channel=channel, thread_ts=thread_ts, team_id=team_id, user_id=user_id,
                         metadata=metadata)
    pending = shown = ""
    pending_since = last_flush = time.monotonic()
    final: Answer | None = None
    try:
        for event in events:
            if isinstance(event, Answer):
                final = event
                break
            now = time.monotonic()
            if event:
                pending_since = pending_since if pending else now
                pending += event
            if not pending or (shown and len(pending) < buffer_chars and now - last_flush < flush_every_s):
                continue
            cut = _safe_cut(pending)
            if not cut and now - pending_since >= HOLD_WORD_S and not re.search(r"[@\d]", pending):
                cut = len(pending)
            if cut:
                reply.show(pending[:cut])
                shown, pending = shown + pending[:cut], pending[cut:]
                last_flush = pending_since = now
    except BaseException:
        reply.abandon(pending)
        raise
    if final is None:
        reply.abandon(pending)
        return reply.ts
    streamed = (shown + pending).strip()
    if streamed and streamed == final.text.strip():
        reply.finish(pending, render_final(final), final)
    else:
        reply.replace(final, render_final(final))
    return reply.ts


def _safe_cut(text: str) -> int:
    """How much of `text` can go out now: up to the last whitespace, minus a trailing run
    of digits that a phone number could still be continuing."""
    cut = max(text.rfind(c) for c in " \n\t") + 1
    run = _PHONE_RUN.search(text[:cut])
    return run.start() if run else cut


def _error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    return type(exc).__name__


class _ThreadReply:
    """The one reply message: a Slack stream while Slack accepts it, else a posted
    message that is edited."""

    def __init__(self, client: WebClient, *, channel: str, thread_ts: str, team_id: str | None, user_id: str | None,
                 metadata: dict[str, Any] | None = None) -> None:
        self.client = client
        self.metadata = metadata
        self.channel = channel
        self.thread_ts = thread_ts
        self.team_id = team_id
        self.user_id = user_id
        self.stream: ChatStream | None = None
        self.streaming = True  # until Slack refuses it
        self.ts: str | None = None
        self.text = ""  # scrubbed text shown so far
        self.last_update = 0.0

    def show(self, raw: str) -> None:
        piece = scrub(raw)
        self.text += piece
        if self.streaming:
            try:
                self._stream().append(markdown_text=piece)
                self.ts = self._stream().ts
                return
            except SLACK_ERRORS as exc:
                self._give_up_streaming(exc)
        self._post_or_update(self.text, None, force=False)

    def finish(self, rest: str, blocks: list[dict[str, Any]], answer: Answer) -> None:
        """The streamed text was the answer: send what is left and close with `blocks`."""
        self.text += scrub(rest)
        if self.streaming:
            try:
                self._stream().stop(markdown_text=scrub(rest) or None, blocks=blocks or None, metadata=self.metadata)
                self.ts = self._stream().ts
                return
            except SLACK_ERRORS as exc:
                self._give_up_streaming(exc)
        self._post_or_update(answer.text, blocks, force=True)

    def replace(self, answer: Answer, blocks: list[dict[str, Any]]) -> None:
        """The answer is not what was streamed (or nothing was): the message becomes it."""
        if self.streaming and self.stream is not None and self.stream.ts:
            self._stop_quietly()
        self.streaming = False
        self._post_or_update(answer.text, blocks, force=True)

    def abandon(self, rest: str) -> None:
        """The events ended without an Answer (the producer failed): close what is open."""
        if self.streaming and self.stream is not None and self.stream.ts:
            self._stop_quietly(scrub(rest) or None)

    def _stream(self) -> ChatStream:
        if self.stream is None:
            self.stream = self.client.chat_stream(
                channel=self.channel,
                thread_ts=self.thread_ts,
                recipient_team_id=self.team_id,
                recipient_user_id=self.user_id,
                buffer_size=1,  # this module buffers; every append goes out
            )
        return self.stream

    def _give_up_streaming(self, exc: Exception) -> None:
        log.warning("Slack streaming failed (%s); posting and editing the reply instead", _error(exc))
        self.streaming = False
        if self.stream is not None and self.stream.ts:
            self.ts = self.stream.ts  # a started stream message is edited in place
            self._stop_quietly()

    def _stop_quietly(self, markdown_text: str | None = None) -> None:
        try:
            self._stream().stop(markdown_text=markdown_text)
        except SLACK_ERRORS as exc:
            log.info("could not stop the Slack stream: %s", _error(exc))

    def _post_or_update(self, text: str, blocks: list[dict[str, Any]] | None, *, force: bool) -> None:
        """Post the reply, or edit it (at most every UPDATE_EVERY_S unless `force`)."""
        now = time.monotonic()
        if self.ts is not None and not force and now - self.last_update < UPDATE_EVERY_S:
            return
        clean = scrub(text)
        payload: dict[str, Any] = {"text": clean[:MAX_FALLBACK_CHARS],
                   "blocks": [{"type": "markdown", "text": clean[:MAX_MARKDOWN_CHARS]}] + list(blocks or [])}
        if force and self.metadata:
            payload["metadata"] = self.metadata
        try:
            if self.ts is None:
                self.ts = self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts, **payload).get("ts")
            else:
                self.client.chat_update(channel=self.channel, ts=self.ts, **payload)
            self.last_update = now
        except SLACK_ERRORS as exc:
            log.warning("could not %s the reply: %s", "post" if self.ts is None else "edit", _error(exc))
            if force and self.ts is not None:  # an uneditable message: the final answer goes out as a new reply
                try:
                    self.ts = self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts, **payload).get("ts")
                except SLACK_ERRORS as again:
                    log.warning("could not post the reply: %s", _error(again))
