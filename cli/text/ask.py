"""Plain text of an `ask` answer: the answer, numbered sources, what was detected."""

from __future__ import annotations

from cli.text import text_for
from knowledge.answers import Answer


@text_for(Answer)
def render(answer: Answer) -> str:
    lines = [answer.text]
    if answer.sources:
        lines.append("")
        lines.append("Sources:")
        lines.extend(f"  [{s.n}] {s.title} — {s.url}" for s in answer.sources)
    detected = []
    if answer.stage_name:
        detected.append(f"stage {answer.stage_name} ({answer.stage_how})")
    if answer.persona_name:
        detected.append(f"persona {answer.persona_name}")
    lines.append("")
    lines.append(f"({'; '.join(detected) or 'no stage or persona detected'}; confidence {answer.confidence:.2f})")
    if answer.other_stages:
        flags = [f"--stage {o.id}" for o in answer.other_stages]
        options = " or ".join([", ".join(flags[:-1]), flags[-1]] if len(flags) > 1 else flags)
        lines.append(f"Not {answer.stage_name}? Ask again with {options}.")
    if answer.note:
        lines.append(answer.note)
    return "\n".join(lines)
