"""An OpenAI-compatible chat-completions server on 127.0.0.1 that records requests.

It "answers" by recommending the first numbered source in the prompt, like a grounded
model would; modes make it say it does not know, fail, stall or break off mid-stream.
With `stream: true` it sends server-sent events (chat.completion.chunk, then [DONE]),
one word per chunk, `token_delay_s` apart. When the request carries `tools`, it calls
the tool named by `tool_choice` (or none when that is None).

`ScriptedModel` holds the behaviour; the Ollama stand-in shares it.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

Mode = str  # "cite" | "unknown" | "error" | "stall" | "fail_mid_stream"


class ScriptedModel:
    """What the stand-in LLMs say and how: shared by the OpenAI and Ollama stand-ins."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.mode: Mode = "cite"
        self.tool_choice: tuple[str, dict[str, Any]] | None = None  # (tool name, arguments) to call
        self.token_delay_s = 0.0  # between streamed chunks
        self.stall_s = 30.0  # how long "stall" waits before answering (cut short by stop())
        self.fail_after_tokens = 3  # "fail_mid_stream": chunks sent before the connection drops
        self.token_times: list[float] = []  # time.monotonic() of every streamed text chunk sent
        self.released = threading.Event()
        self.server: ThreadingHTTPServer | None = None

    def serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        """Bind `handler` on 127.0.0.1 (any free port); `start` runs it."""
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])

    def start(self) -> Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()

    def reply_text(self, body: dict[str, Any]) -> str:
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        if self.mode == "unknown":
            return "I don't know from the journey map."
        match = re.search(r"^\[(\d+)\] (.+?) \(", prompt, re.MULTILINE)
        if not match:
            return "I don't know from the journey map."
        return f"Send {match.group(2)} [{match.group(1)}]: it answers exactly this."

    def tool_call(self, body: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        return self.tool_choice if body.get("tools") else None

    def tokens(self, text: str) -> list[str]:
        return re.findall(r"\s*\S+", text)

    def stall(self) -> None:
        self.released.wait(self.stall_s)


class _ChunkedWriter:
    """HTTP/1.1 chunked body; dropping the connection without the last chunk is a real
    mid-stream failure for the client (an incomplete body)."""

    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        self.handler = handler

    def write(self, data: bytes) -> None:
        self.handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.handler.wfile.flush()

    def end(self) -> None:
        self.handler.wfile.write(b"0\r\n\r\n")
        self.handler.wfile.flush()


def start_chunked(handler: BaseHTTPRequestHandler, content_type: str) -> _ChunkedWriter:
    handler.send_response(200)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Transfer-Encoding", "chunked")
    handler.send_header("Connection", "close")
    handler.end_headers()
    return _ChunkedWriter(handler)


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1, no access log, JSON request bodies."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def read_json(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        return body


def send_json(handler: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
    data = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.wfile.write(data)


class OpenAIStandIn(ScriptedModel):
    def __init__(self) -> None:
        super().__init__()
        self.auth_headers: list[str] = []
        stand_in = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.read_json()
                stand_in.requests.append({"path": self.path, "body": body})
                stand_in.auth_headers.append(self.headers.get("Authorization", ""))
                if not self.path.endswith("/chat/completions"):
                    send_json(self, 404, {"error": {"message": "not found"}})
                elif stand_in.mode == "error":
                    send_json(self, 500, {"error": {"message": "stand-in failure", "type": "server_error"}})
                else:
                    if stand_in.mode == "stall":
                        stand_in.stall()
                    if body.get("stream"):
                        stand_in.stream(self, body)
                    else:
                        send_json(self, 200, stand_in.completion(body))

        self.serve(Handler)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def completion(self, body: dict[str, Any]) -> dict[str, Any]:
        call = self.tool_call(body)
        if call is not None:
            message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [_openai_tool_call(call)]}
            finish, text = "tool_calls", ""
        else:
            text = self.reply_text(body)
            message, finish = {"role": "assistant", "content": text}, "stop"
        return {
            "id": "chatcmpl-standin",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "stand-in"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 10, "completion_tokens": len(text.split()), "total_tokens": 10 + len(text.split())},
        }

    def stream(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        writer = start_chunked(handler, "text/event-stream")
        for chunk in self._chunks(body):
            if chunk is None:  # fail_mid_stream: drop the connection without ending the body
                return
            writer.write(f"data: {json.dumps(chunk)}\n\n".encode())
            if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                self.token_times.append(time.monotonic())
        writer.write(b"data: [DONE]\n\n")
        writer.end()

    def _chunks(self, body: dict[str, Any]) -> Iterator[dict[str, Any] | None]:
        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {"id": "chatcmpl-standin", "object": "chat.completion.chunk", "created": int(time.time()),
                    "model": body.get("model", "stand-in"), "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        yield chunk({"role": "assistant", "content": ""})
        call = self.tool_call(body)
        if call is not None:
            yield chunk({"tool_calls": [{"index": 0, **_openai_tool_call(call)}]})
            yield chunk({}, "tool_calls")
        else:
            for i, token in enumerate(self.tokens(self.reply_text(body))):
                if self.mode == "fail_mid_stream" and i == self.fail_after_tokens:
                    yield None
                    return
                if i and self.token_delay_s:
                    time.sleep(self.token_delay_s)
                yield chunk({"content": token})
            yield chunk({}, "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            yield {"id": "chatcmpl-standin", "object": "chat.completion.chunk", "created": int(time.time()),
                   "model": body.get("model", "stand-in"), "choices": [],
                   "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}



def _openai_tool_call(call: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    name, arguments = call
    return {"id": "call_standin_1", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
