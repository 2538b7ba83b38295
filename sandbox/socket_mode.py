"""A local Socket Mode endpoint (for the tests): the WebSocket that `apps.connections.open`
hands out. It greets each connection with `hello`, delivers envelopes (slash commands,
events, interactions) as Slack does, and records the app's acknowledgements, so the real
slack_sdk Socket Mode client and Bolt's handler run unchanged against it."""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from sandbox.slack_workspace import APP_ID


class SocketModeStandIn:
    """Serves ws://127.0.0.1:<free port>/link. Envelopes wait in a queue until an app is
    connected; acknowledgements are kept by envelope id."""

    def __init__(self) -> None:
        self._outbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self._acks: dict[str, dict[str, Any]] = {}
        self._connected = threading.Event()
        self._changed = threading.Condition()
        self.connections = 0
        self.server: Server = serve(self._handle, "127.0.0.1", 0, compression=None)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/link"

    def start(self) -> SocketModeStandIn:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def deliver(self, kind: str, payload: dict[str, Any]) -> str:
        """Queue an envelope of `kind` ("slash_commands", "events_api", "interactive");
        returns its envelope id."""
        envelope_id = str(uuid.uuid4())
        self._outbox.put({"envelope_id": envelope_id, "type": kind, "payload": payload,
                          "accepts_response_payload": kind != "events_api", "retry_attempt": 0, "retry_reason": ""})
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float) -> dict[str, Any] | None:
        """The app's acknowledgement of an envelope, or None if none came in time."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while envelope_id not in self._acks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)
            return self._acks[envelope_id]

    def _handle(self, connection: ServerConnection) -> None:
        self.connections += 1
        connection.send(json.dumps({"type": "hello", "num_connections": self.connections,
                                    "connection_info": {"app_id": APP_ID},
                                    "debug_info": {"host": "sandbox", "approximate_connection_time": 3600}}))
        self._connected.set()
        reader = threading.Thread(target=self._read_acks, args=(connection,), daemon=True)
        reader.start()
        while reader.is_alive():
            try:
                envelope = self._outbox.get(timeout=0.05)
            except queue.Empty:
                continue
            try:
                connection.send(json.dumps(envelope))
            except ConnectionClosed:
                self._outbox.put(envelope)  # not delivered: the next connection gets it
                return

    def _read_acks(self, connection: ServerConnection) -> None:
        try:
            for message in connection:
                data = json.loads(message)
                if "envelope_id" in data:
                    with self._changed:
                        self._acks[str(data["envelope_id"])] = data
                        self._changed.notify_all()
        except ConnectionClosed:
            pass
