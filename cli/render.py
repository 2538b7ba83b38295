"""Plain-text and JSON renderings of results for the terminal (Slack has its own)."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table

from knowledge.models import ContentAsset, JourneyMap, Persona, Stage
from knowledge.validation import MapProblem


def print_json(console: Console, payload: Any) -> None:
    console.print_json(json.dumps(payload, default=str))


def stages_table(journey_map: JourneyMap) -> Table:
    answered = {q for a in journey_map.assets for q in a.answers}
    table = Table(title=f"{journey_map.name} v{journey_map.version}")
    for column in ("#", "stage", "owner", "target days", "questions", "answered", "assets", "deal stages"):
        table.add_column(column)
    for stage in journey_map.stages:
        questions = [q.id for q in stage.questions]
        assets = sum(1 for a in journey_map.assets if stage.id in a.stages)
        table.add_row(
            str(stage.order),
            stage.name,
            stage.owner_team.value,
            f"{stage.target_days_in_stage:g}",
            str(len(questions)),
            str(sum(1 for q in questions if q in answered)),
            str(assets),
            ", ".join(stage.hubspot.deal_stages) or "-",
        )
    return table


def stage_json(journey_map: JourneyMap, stage: Stage) -> dict[str, Any]:
    answered = {q for a in journey_map.assets for q in a.answers}
    return {
        "id": stage.id,
        "name": stage.name,
        "order": stage.order,
        "owner_team": stage.owner_team.value,
        "target_days_in_stage": stage.target_days_in_stage,
        "definition": stage.definition,
        "questions": len(stage.questions),
        "questions_answered": sum(1 for q in stage.questions if q.id in answered),
        "assets": sum(1 for a in journey_map.assets if stage.id in a.stages),
        "lifecycle_stages": stage.hubspot.lifecycle_stages,
        "deal_stages": stage.hubspot.deal_stages,
    }


def asset_json(asset: ContentAsset) -> dict[str, Any]:
    return {
        "id": asset.id,
        "title": asset.title,
        "url": str(asset.url),
        "format": asset.format,
        "stages": asset.stages,
        "personas": asset.personas,
        "answers": asset.answers,
        "summary": asset.summary,
        "owner": asset.owner,
        "last_reviewed": asset.last_reviewed.isoformat(),
    }


def content_table(stage: Stage, persona: Persona | None, assets: list[ContentAsset]) -> Table:
    title = f"Content for {stage.name}" + (f" × {persona.name}" if persona else "")
    table = Table(title=title)
    for column in ("asset", "format", "for", "reviewed"):
        table.add_column(column)
    # A rep copies the link: the URL column is never cut or wrapped, the others give way.
    widest = max((len(str(a.url)) for a in assets), default=3)
    table.add_column("url", no_wrap=True, overflow="ignore", min_width=widest)
    for asset in assets:
        table.add_row(asset.title, asset.format, ", ".join(asset.personas) or "everyone", asset.last_reviewed.isoformat(), str(asset.url))
    return table


def problem_json(problem: MapProblem) -> dict[str, Any]:
    return {"file": problem.file, "line": problem.line, "path": problem.path, "message": problem.message, "severity": problem.severity}
