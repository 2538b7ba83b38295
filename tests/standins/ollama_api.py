"""An Ollama-compatible server on 127.0.0.1 (what the `ollama` client that langchain-ollama
uses calls): `POST /api/chat` streams NDJSON objects when `stream` is true (Ollama's default,
and what ChatOllama always sends) and answers one JSON object otherwise; tool calls come
in `message.tool_calls` with arguments as an object, as Ollama sends them. `GET /api/tags`,
`POST /api/show` (ChatOllama's validate_model_on_init) and `GET /` are there too.

Behaviour (modes, tool_choice, token_delay_s) is the OpenAI stand-in's `ScriptedModel`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.standins.openai_api import QuietHandler, ScriptedModel, send_json, start_chunked

MODEL = "stand-in-llama"


class OllamaStandIn(ScriptedModel):
    def __init__(self, models: tuple[str, ...] = (MODEL,)) -> None:
        super().__init__()
        self.models = models
        self.headers: list[dict[str, str]] = []
        stand_in = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if self.path == "/api/tags":
                    send_json(self, 200, {"models": [stand_in.model_entry(m) for m in stand_in.models]})
                elif self.path == "/":
                    data = b"Ollama is running"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(data)
                else:
                    send_json(self, 404, {"error": "not found"})

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.read_json()
                stand_in.requests.append({"path": self.path, "body": body})
                stand_in.headers.append(dict(self.headers.items()))
                if self.path == "/api/show":
                    stand_in.show(self, body)
                elif self.path != "/api/chat":
                    send_json(self, 404, {"error": "not found"})
                elif body.get("model") not in stand_in.models:
                    send_json(self, 404, {"error": f"model '{body.get('model')}' not found"})
                elif stand_in.mode == "error":
                    send_json(self, 500, {"error": "stand-in failure"})
                else:
                    if stand_in.mode == "stall":
                        stand_in.stall()
                    if body.get("stream", True):
                        stand_in.stream(self, body)
                    else:
                        send_json(self, 200, stand_in.final(body, stand_in.message(body)))

        self.serve(Handler)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def model_entry(self, name: str) -> dict[str, Any]:
        return {"name": name, "model": name, "modified_at": "2025-01-01T00:00:00Z", "size": 1, "digest": "0" * 64,
                "details": {"format": "gguf", "family": "llama", "parameter_size": "1B", "quantization_level": "Q4_0"}}

    def show(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        if body.get("model") not in self.models:
            send_json(handler, 404, {"error": f"model '{body.get('model')}' not found"})
            return
        send_json(handler, 200, {"modelfile": "", "parameters": "", "template": "{{ .Prompt }}",
                                 "details": self.model_entry(body["model"])["details"], "capabilities": ["completion", "tools"]})

    def message(self, body: dict[str, Any]) -> dict[str, Any]:
        call = self.tool_call(body)
        if call is not None:
            name, arguments = call
            return {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": name, "arguments": arguments}}]}
        return {"role": "assistant", "content": self.reply_text(body)}

    def part(self, body: dict[str, Any], message: dict[str, Any], done: bool = False) -> dict[str, Any]:
        return {"model": body.get("model"), "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "message": message, "done": done}

    def final(self, body: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
        return {**self.part(body, message, done=True), "done_reason": "stop", "total_duration": 1000,
                "prompt_eval_count": 10, "eval_count": 5}

    def stream(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        writer = start_chunked(handler, "application/x-ndjson")
        for part in self._parts(body):
            if part is None:  # fail_mid_stream: drop the connection without ending the body
                return
            writer.write(json.dumps(part).encode() + b"\n")
            if part["message"].get("content"):
                self.token_times.append(time.monotonic())
        writer.end()

    def _parts(self, body: dict[str, Any]) -> Iterator[dict[str, Any] | None]:
        message = self.message(body)
        if message.get("tool_calls"):
            yield self.part(body, message)
        else:
            for i, token in enumerate(self.tokens(message["content"])):
                if self.mode == "fail_mid_stream" and i == self.fail_after_tokens:
                    yield None
                    return
                if i and self.token_delay_s:
                    time.sleep(self.token_delay_s)
                yield self.part(body, {"role": "assistant", "content": token})
        yield self.final(body, {"role": "assistant", "content": ""})

