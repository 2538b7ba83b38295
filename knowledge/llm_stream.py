"""Streaming the grounded answer: text deltas as the model writes them, then one final
`Answer` (only the cited sources kept).

    for event in stream_answer(chat, retrieval, extractive, journey_map, timeout_s=20):
        if isinstance(event, Answer): ...   # always last, always exactly one
        else: ...                           # a text delta ("" = heartbeat, no new text)

The model runs in a worker thread so that a stalled provider (or one whose client retries
a timeout) cannot hold the caller past `timeout_s`: no first chunk in time, a failure, a
gap longer than `timeout_s` or an empty reply all end in the extractive answer. When that
happens after text was streamed, the final Answer's text differs from the streamed text,
and the consumer replaces what it showed.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel

from knowledge.answers import Answer
from knowledge.llm import FALLBACK_NOTE, answer_chain, chain_inputs, grounded_answer
from knowledge.models import JourneyMap
from knowledge.retrieval import Retrieval

log = logging.getLogger(__name__)

AnswerEvent = str | Answer
HEARTBEAT_S = 0.5
MID_STREAM_NOTE = "The language model stopped mid-answer; this answer comes straight from the map."


def stream_answer(
    chat: BaseChatModel | None,
    retrieval: Retrieval,
    extractive: Answer,
    journey_map: JourneyMap,
    *,
    timeout_s: float = 20.0,
    heartbeat_s: float = HEARTBEAT_S,
) -> Iterator[AnswerEvent]:
    """Text deltas, then the final Answer. Empty deltas are heartbeats every `heartbeat_s`
    while the model is silent, so a consumer can flush buffered text on time. Without a
    model (or for a question the map does not cover) only the extractive Answer comes."""
    if chat is None or not extractive.answered:
        yield extractive
        return
    inputs = chain_inputs(retrieval, extractive, journey_map)
    received: queue.Queue[tuple[str, Any]] = queue.Queue()
    cancelled = threading.Event()
    context = contextvars.copy_context()  # langchain callbacks and tracing follow the caller
    worker = threading.Thread(
        target=context.run, args=(_pump, chat, inputs, received, cancelled), name="llm-stream", daemon=True
    )
    worker.start()
    parts: list[str] = []
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no text from the model for {timeout_s:g} s")
            try:
                kind, value = received.get(timeout=min(heartbeat_s, remaining))
            except queue.Empty:
                yield ""
                continue
            if kind == "error":
                raise value
            if kind == "done":
                break
            parts.append(value)
            deadline = time.monotonic() + timeout_s
            yield value
        text = "".join(parts).strip()
        if not text:
            raise ValueError("the model sent no text")
    except Exception as exc:  # the LLM is optional: any failure ends in the map's answer
        where = "mid-answer" if parts else "before answering"
        log.warning("LLM stream failed %s, using the extractive answer: %s", where, type(exc).__name__)
        yield replace(extractive, note=MID_STREAM_NOTE if parts else FALLBACK_NOTE)
        return
    finally:
        cancelled.set()
    yield grounded_answer(text, extractive)


def _pump(chat: BaseChatModel, inputs: dict[str, str], out: queue.Queue[tuple[str, Any]], cancelled: threading.Event) -> None:
    """Run the chain's stream in the worker thread; stop reading once the caller gave up."""
    try:
        stream = answer_chain(chat).stream(inputs)
        try:
            for chunk in stream:
                if cancelled.is_set():
                    return
                if chunk:
                    out.put(("text", chunk))
        finally:
            close = getattr(stream, "close", None)  # a generator: closing it ends the HTTP stream
            if close is not None:
                close()
        out.put(("done", None))
    except Exception as exc:
        out.put(("error", exc))
