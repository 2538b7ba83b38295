"""What the local Slack stand-in knows and answers: every call recorded, messages per
channel (served back by conversations.history and .replies, newest first), streamed
replies (chat.startStream / appendStream / stopStream, with `stream_state` in_progress or
stopped), conversations the bot is outside of, and failures injected on demand.
`sandbox.slack_api` serves it over HTTP to the real slack_sdk WebClient."""

from __future__ import annotations

import datetime
import json
import threading
import time
from collections.abc import Callable
from typing import Any

BOT_USER = "U0JOURNEY"
APP_ID = "A0JOURNEY"
TEAM_ID = "T0TEST"
POSTING_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.startStream",
                             "files.completeUploadExternal"})


class SlackWorkspace:
    """One workspace's state as the bot's token sees it, and Slack's answer to each call."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        """`clock` (epoch seconds, e.g. time.time) stamps message ts; default a fixed
        counter from 1700000000."""
        self.calls: list[dict[str, Any]] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self._clock = clock
        self.failures: dict[str, list[str]] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.users_by_email: dict[str, str] = {}  # users.lookupByEmail: email -> user id, else users_not_found
        self.users: dict[str, dict[str, Any]] = {}  # users.info: user id -> the user object (see add_user)
        # Conversations the bot cannot post in, with the error Slack gives there: "not_in_channel"
        # (public, not invited), "channel_not_found" (private, DMs between people), "is_archived".
        self.outside: dict[str, str] = {}
        # Seconds a method takes after it has taken effect (before its reply leaves): a
        # caller killed in that window did post, without knowing it.
        self.latency: dict[str, float] = {}
        self.members: dict[str, set[str]] = {}  # channel -> users in it (users.conversations)
        self.creators: dict[str, str] = {}  # channel -> the user who created it (conversations.info)
        self.display_names: dict[str, str] = {}  # users.info: user id -> profile display name
        self.socket_url: str | None = None  # apps.connections.open hands it out (sandbox.socket_mode)
        self._lock = threading.Lock()
        self._ts = 1700000000.000100

    def add_user(self, user_id: str, *, tz: str | None = None, tz_offset: int | None = None,
                 email: str | None = None) -> None:
        """A workspace member as users.info shows them: `tz` (IANA name) with its current
        `tz_offset` in seconds (Slack sends both; give only an offset for a user whose
        zone name is unknown), and the profile email (the bot holds users:read.email)."""
        if tz is not None and tz_offset is None:
            from zoneinfo import ZoneInfo

            now = datetime.datetime.now(ZoneInfo(tz))
            tz_offset = int((now.utcoffset() or datetime.timedelta()).total_seconds())
        profile: dict[str, Any] = {"real_name": f"User {user_id}", "display_name": user_id.lower()}
        if email:
            profile["email"] = email
            self.users_by_email[email] = user_id
        user: dict[str, Any] = {"id": user_id, "team_id": TEAM_ID, "name": user_id.lower(), "real_name": f"User {user_id}",
                                "deleted": False, "is_bot": False, "profile": profile}
        if tz is not None:
            user["tz"] = tz
        if tz_offset is not None:
            user["tz_offset"] = tz_offset
        with self._lock:
            self.users[user_id] = user

    def _record(self, method: str, params: dict[str, Any], failed: str | None = None) -> None:
        with self._lock:
            self.calls.append({"method": method, "params": params, "failed": failed, "at": time.monotonic()})

    def _take_failure(self, method: str) -> str | None:
        with self._lock:
            queue = self.failures.get(method)
            return queue.pop(0) if queue else None

    def fail_next(self, method: str, kind: str = "500", times: int = 1) -> None:
        with self._lock:
            self.failures.setdefault(method, []).extend([kind] * times)

    def _next_ts(self) -> str:
        with self._lock:
            self._ts = max(self._ts + 1 if self._clock is None else self._ts + 0.000001, self._clock() if self._clock else 0.0)
            return f"{self._ts:.6f}"

    def _store(self, params: dict[str, Any], ts: str) -> None:
        message = {"type": "message", "ts": ts, "text": params.get("text"), "blocks": params.get("blocks"),
                   "user": BOT_USER, "bot_id": "B0JOURNEY"}
        if params.get("metadata"):
            message["metadata"] = params["metadata"]
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        with self._lock:
            self.messages.setdefault(str(params.get("channel")), []).append(message)

    def history(self, params: dict[str, Any]) -> dict[str, Any]:
        """conversations.history: newest first, `oldest`/`latest` exclusive bounds, `limit`;
        metadata only with include_all_metadata (as Slack does)."""
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or "inf")
        limit = int(params.get("limit") or 100)
        with_metadata = str(params.get("include_all_metadata")).lower() in ("true", "1")
        with self._lock:
            stored = list(self.messages.get(str(params.get("channel")), []))
        chosen = sorted((m for m in stored if oldest < float(m["ts"]) < latest), key=lambda m: float(m["ts"]), reverse=True)
        page = [m if with_metadata else {k: v for k, v in m.items() if k != "metadata"} for m in chosen[:limit]]
        return {"ok": True, "messages": page, "has_more": len(chosen) > limit, "response_metadata": {"next_cursor": ""}}

    @staticmethod
    def _stream_text(params: dict[str, Any]) -> str | None:
        """The markdown a stream call carries: `markdown_text` and/or markdown_text chunks
        (slack_sdk's ChatStream sends chunks); None when it carries none."""
        parts = [params["markdown_text"]] if isinstance(params.get("markdown_text"), str) else []
        chunks = params.get("chunks")
        if isinstance(chunks, str):
            try:
                chunks = json.loads(chunks)
            except ValueError:
                chunks = None
        if isinstance(chunks, list):
            parts += [str(c.get("text", "")) for c in chunks if isinstance(c, dict) and c.get("type") == "markdown_text"]
        return "".join(parts) if parts or isinstance(chunks, list) else None

    def _open_stream(self, params: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        """The streamed message a call names, or the error Slack gives when there is no
        such message or it was stopped already."""
        with self._lock:
            stored = self.messages.get(str(params.get("channel")), [])
            message = next((m for m in stored if m["ts"] == params.get("ts") and "stream_state" in m), None)
        if message is None:
            return None, "message_not_found"
        if message["stream_state"] != "in_progress":
            return None, "message_not_in_streaming_state"
        return message, None

    def start_stream(self, params: dict[str, Any]) -> dict[str, Any]:
        """chat.startStream: a reply in a thread whose text later calls append to."""
        if not params.get("channel") or not params.get("thread_ts"):
            return {"ok": False, "error": "invalid_arguments"}
        ts = self._next_ts()
        message = {"type": "message", "ts": ts, "thread_ts": params["thread_ts"], "text": self._stream_text(params) or "",
                   "blocks": None, "user": BOT_USER, "bot_id": "B0JOURNEY", "stream_state": "in_progress"}
        with self._lock:
            self.messages.setdefault(str(params["channel"]), []).append(message)
        return {"ok": True, "channel": params["channel"], "ts": ts}

    def append_stream(self, params: dict[str, Any]) -> dict[str, Any]:
        """chat.appendStream: more markdown onto a started, not yet stopped stream."""
        message, error = self._open_stream(params)
        if message is None:
            return {"ok": False, "error": error}
        text = self._stream_text(params)
        if not text:
            return {"ok": False, "error": "invalid_arguments"}
        with self._lock:
            message["text"] += text
        return {"ok": True, "channel": params["channel"], "ts": message["ts"]}

    def stop_stream(self, params: dict[str, Any]) -> dict[str, Any]:
        """chat.stopStream: optional last markdown and blocks; the stream is then final."""
        message, error = self._open_stream(params)
        if message is None:
            return {"ok": False, "error": error}
        blocks = params.get("blocks")
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except ValueError:
                return {"ok": False, "error": "invalid_blocks"}
        with self._lock:
            message["text"] += self._stream_text(params) or ""
            message["blocks"] = blocks or None
            message["stream_state"] = "stopped"
            if params.get("metadata"):
                message["metadata"] = params["metadata"]
        return {"ok": True, "channel": params["channel"], "ts": message["ts"], "message": {"text": message["text"]}}

    def _refusal(self, method: str, params: dict[str, Any]) -> str | None:
        """The error Slack gives when the bot posts where it is not a member."""
        if method not in POSTING_METHODS:
            return None
        channel = params.get("channel") or params.get("channel_id")
        return self.outside.get(str(channel)) if channel else None

    def channel_info(self, channel: str) -> dict[str, Any]:
        """conversations.info as the bot sees it: private channels and DMs it is not in do
        not exist for it; others say whether it is a member, and whether archived."""
        refusal = self.outside.get(channel)
        if refusal == "channel_not_found":
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": {"id": channel, "is_member": refusal is None, "is_archived": refusal == "is_archived",
                                        "creator": self.creators.get(channel, "U0CREATOR")}}

    def update(self, params: dict[str, Any]) -> dict[str, Any]:
        """chat.update: the stored message takes the new text and blocks."""
        with self._lock:
            stored = self.messages.get(str(params.get("channel")), [])
            message = next((m for m in stored if m["ts"] == params.get("ts")), None)
            if message is not None:
                message["text"], message["blocks"] = params.get("text"), params.get("blocks")
        return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts"), "message": {"text": params.get("text")}}

    def replies(self, params: dict[str, Any]) -> dict[str, Any]:
        """conversations.replies: the thread's parent and replies, oldest first."""
        ts = str(params.get("ts"))
        with self._lock:
            stored = list(self.messages.get(str(params.get("channel")), []))
        thread = sorted((m for m in stored if m["ts"] == ts or m.get("thread_ts") == ts), key=lambda m: float(m["ts"]))
        with_metadata = str(params.get("include_all_metadata")).lower() in ("true", "1")
        page = [m if with_metadata else {k: v for k, v in m.items() if k != "metadata"} for m in thread]
        return {"ok": True, "messages": page, "has_more": False, "response_metadata": {"next_cursor": ""}}

    def answer(self, method: str, params: dict[str, Any], port: int) -> dict[str, Any]:
        refusal = self._refusal(method, params)
        if method != "auth.test":
            self._record(method, params, failed=refusal)
        if refusal:
            return {"ok": False, "error": refusal}
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": "B0JOURNEY", "app_id": APP_ID, "team_id": TEAM_ID, "team": "Test",
                    "url": "https://test.slack.com/"}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(params.get("users", "")).split(",")[0].lstrip("U")}}
        if method == "conversations.replies":
            return self.replies(params)
        if method == "conversations.info":
            return self.channel_info(str(params.get("channel")))
        if method == "users.conversations":
            member = str(params.get("user"))
            with self._lock:
                channels = sorted(c for c, users in self.members.items() if member in users and self.outside.get(c) != "channel_not_found")
            return {"ok": True, "channels": [{"id": c} for c in channels], "response_metadata": {"next_cursor": ""}}
        if method == "chat.postMessage":
            ts = self._next_ts()
            self._store(params, ts)
            return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": {"text": params.get("text")}}
        if method == "chat.update":
            return self.update(params)
        if method == "conversations.history":
            return self.history(params)
        if method == "chat.startStream":
            return self.start_stream(params)
        if method == "chat.appendStream":
            return self.append_stream(params)
        if method == "chat.stopStream":
            return self.stop_stream(params)
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "apps.connections.open":
            if not str(params.get("_auth", "")).startswith("Bearer xapp-"):
                return {"ok": False, "error": "not_allowed_token_type"}  # only an app-level token opens one
            return {"ok": True, "url": self.socket_url} if self.socket_url else {"ok": False, "error": "access_denied"}
        if method == "files.getUploadURLExternal":
            file_id = f"F{len(self.calls):06d}"
            return {"ok": True, "upload_url": f"http://127.0.0.1:{port}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = [{"id": f.get("id"), "title": f.get("title")} for f in params.get("files") or []]
            if params.get("channel_id"):  # shared: Slack posts it as a message (in the thread, if given)
                share = {"type": "message", "subtype": "file_share", "ts": self._next_ts(), "text": "",
                         "files": files, "user": BOT_USER, "bot_id": "B0JOURNEY"}
                if params.get("thread_ts"):
                    share["thread_ts"] = params["thread_ts"]
                with self._lock:
                    self.messages.setdefault(str(params["channel_id"]), []).append(share)
            return {"ok": True, "files": files}
        if method == "users.lookupByEmail":
            wanted = str(params.get("email", "")).lower()
            user: str | None = next((u for e, u in self.users_by_email.items() if e.lower() == wanted), None)
            return {"ok": True, "user": {"id": user}} if user else {"ok": False, "error": "users_not_found"}
        if method == "users.info":
            uid = str(params.get("user", ""))
            with self._lock:
                found = self.users.get(uid)
            if found is None:  # a member no test described (add_user): an id and a display name
                return {"ok": True, "user": {"id": uid, "profile": {"display_name": self.display_names.get(uid, ""),
                                                                    "real_name": ""}}}
            if uid in self.display_names:
                found = {**found, "profile": {**found["profile"], "display_name": self.display_names[uid]}}
            return {"ok": True, "user": found}
        if method == "usergroups.users.list":
            return {"ok": True, "users": self.usergroups.get(params.get("usergroup", ""), [])}
        return {"ok": True}

    def of(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [c for c in self.calls if c["method"] == method and not c["failed"]]

    def wait_for(self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 30.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                snapshot = list(self.calls)
            if predicate(snapshot):
                return snapshot
            time.sleep(0.02)
        raise AssertionError(f"condition not met within {timeout}s; calls: {[c['method'] for c in self.calls]}")
