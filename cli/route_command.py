"""`journeybot route "text"`: how the bot understood a message, and why."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

out = Console(soft_wrap=True)


def route(
    text: Annotated[str, typer.Argument(help="The message, as typed in Slack.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (shapes in docs/cli.md).")] = False,
) -> None:
    """Show how the bot understands a message: skill, arguments, names, stage, persona.

    Also its confidence, or what it would ask back; names come from the CRM snapshot when a CRM is set.
    """
    from cli.render import print_json
    from cli.services import knowledge_service
    from config import load_settings
    from skills.builtin import default_registry
    from skills.context import SkillContext
    from skills.understanding import add_map_reading, understander_for

    settings = load_settings()
    ctx = SkillContext(settings, knowledge_service())
    _ = ctx.journey_map  # indexes on first use
    registry = default_registry()
    result = understander_for(ctx, registry).understand(text, today=ctx.now.date())
    if result.how != "language":  # a message the model cannot read has no stage or persona to show
        add_map_reading(result, ctx.knowledge.live.current().retriever)
    data = result.to_dict()
    if as_json:
        print_json(out, data)
        return
    if result.clarify:
        out.print(f"asks back: {result.clarify.question}")
        for option in result.clarify.options:
            out.print(f"  • {option.skill} {option.arguments} — {option.label}")
    else:
        out.print(f"skill: [bold]{result.skill}[/bold] {result.arguments} (by {result.how}, confidence {data['confidence']})")
    for entity in data["entities"]:
        if entity["type"] == "time":
            found = entity["start"] if entity["start"] == entity["end"] else f"{entity['start']} to {entity['end']}"
        else:
            found = entity["name"] or ", ".join(c["name"] for c in entity.get("candidates", [])) or "?"
        out.print(f"{entity['type']}: “{entity['text']}” → {found}")
    out.print(f"stage: {result.stage or '—'}   persona: {result.persona or '—'}")
    ranked = ", ".join(f"{k} {v:.2f}" for k, v in data["scores"].items())
    if ranked:
        out.print(f"scores: {ranked}", highlight=False)
