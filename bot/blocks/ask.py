"""An `ask` answer: the composed text with its numbered sources turned into links in
place (a rep clicks what the answer recommends), what was detected, then the buttons."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block, ButtonElement

from bot import ids
from bot.blocks.common import MAX_BUTTON_VALUE, actions, button, context, escape, finish, link, ref_value, sections
from bot.blocks.rendering import RenderOptions, renders
from bot.message import SlackMessage
from knowledge.answers import Answer
from skills.ask import SKILL as ASK
from skills.registry import command_text


def _body(answer: Answer) -> str:
    """The answer's lines, escaped, with each "[n] title" line starting with the source's link."""
    by_prefix = {f"[{s.n}] {s.title}": s for s in answer.sources}
    lines: list[str] = []
    for line in answer.text.split("\n"):
        source = next((s for prefix, s in by_prefix.items() if line.startswith(prefix)), None)
        if source is None:
            heading = line.endswith(":") and not line.startswith(("•", "["))
            lines.append(f"*{escape(line)}*" if heading else escape(line))
            continue
        rest = line[len(f"[{source.n}] {source.title}") :]
        lines.append(f"[{source.n}] {link(source.url, source.title)}{escape(rest)}")
    listed = {s.n for s in answer.sources if any(line.startswith(f"[{s.n}] ") for line in answer.text.split("\n"))}
    lines += [f"[{s.n}] {link(s.url, s.title)}" for s in answer.sources if s.n not in listed]
    return "\n".join(lines)


def _detected(answer: Answer) -> str:
    if answer.language:
        return f"language: {escape(answer.language)} · not searched (the offline model reads English only)"
    found = []
    if answer.stage_name:
        found.append(f"stage *{escape(answer.stage_name)}*")
    if answer.persona_name:
        found.append(f"persona *{escape(answer.persona_name)}*")
    what = ", ".join(found) or "no stage or persona detected"
    return f"{what} · confidence {answer.confidence:.2f}" + (" · LLM-written" if answer.used_llm else "")


def answer_buttons(answer: Answer, log_id: int | None, ephemeral: bool) -> list[ButtonElement]:
    """Feedback needs the log row; sharing an ephemeral answer re-renders it from the log
    (value "ask|<log_id>") or, unlogged, from the question ("ask|q:<question>")."""
    out: list[ButtonElement] = []
    if log_id is not None:
        out.append(button("👍 Helpful", ids.FEEDBACK_UP, str(log_id)))
        out.append(button("👎 Not helpful", ids.FEEDBACK_DOWN, str(log_id)))
    if ephemeral:
        ref = str(log_id) if log_id is not None else f"q:{answer.question}"
        out.append(button("Share to channel", ids.SHARE, ref_value("ask", ref), style="primary"))
    return out


def other_stage_buttons(answer: Answer) -> list[ButtonElement]:
    """"Answer for <stage>" for the next likeliest stages of an inferred one: the same
    question asked again with that stage given (and the persona kept)."""
    out: list[ButtonElement] = []
    # An answer kept (pickled) before other_stages existed has no such attribute.
    for action_id, option in zip(ids.OTHER_STAGE, getattr(answer, "other_stages", []), strict=False):
        text = command_text(ASK, {"question": answer.question, "stage": option.id, "persona": answer.persona_id})
        if len("ask|") + len(text) <= MAX_BUTTON_VALUE:  # a cut value would not parse: no button then
            out.append(button(f"Answer for {option.name}", action_id, ref_value("ask", text)))
    return out


def render(answer: Answer, *, log_id: int | None = None, ephemeral: bool = False) -> SlackMessage:
    blocks: list[Block] = sections(_body(answer))
    notes = [_detected(answer)] + ([escape(answer.note)] if answer.note else [])
    blocks.append(context(*notes))
    blocks += actions(other_stage_buttons(answer), ids.OTHER_STAGE_BLOCK)
    buttons = answer_buttons(answer, log_id, ephemeral)
    if buttons:
        blocks += actions(buttons, ids.FEEDBACK_BLOCK)
    fallback = [answer.text] + (["Sources: " + " ".join(s.url for s in answer.sources)] if answer.sources else [])
    return finish(fallback, blocks)


def sources_line(answer: Answer) -> str:
    """"Sources: [1] title · [2] title" as links, for text that only cites the numbers."""
    return "Sources: " + " · ".join(link(s.url, f"[{s.n}] {s.title}") for s in answer.sources) if answer.sources else ""


def streamed_closing(answer: Answer) -> list[dict[str, Any]]:
    """What closes an answer streamed into a thread (its text is already there): the
    sources as links, what was detected, the other likeliest stages and the feedback
    buttons; no Share (it is public)."""
    notes = [n for n in (sources_line(answer),) if n]
    notes += [_detected(answer)] + ([escape(answer.note)] if answer.note else [])
    blocks: list[Block] = [context(*notes)]
    blocks += actions(other_stage_buttons(answer), ids.OTHER_STAGE_BLOCK)
    blocks += actions(answer_buttons(answer, answer.log_id, ephemeral=False), ids.FEEDBACK_BLOCK)
    return [block.to_dict() for block in finish([answer.text], blocks).blocks]


@renders(Answer)
def _answer(result: Answer, options: RenderOptions) -> SlackMessage:
    return render(result, log_id=options.log_id, ephemeral=options.ephemeral)
