"""Journey-map commands: validate, index, ask, stages, content."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from cli.exit_codes import ExitCode

if TYPE_CHECKING:  # chromadb, langchain and the models take seconds to import: only where needed
    from knowledge.indexing import IndexReport
    from knowledge.models import JourneyMap
    from knowledge.service import KnowledgeService
    from knowledge.validation import MapValidationError

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON (shapes in docs/cli.md).")]
MAP_SETTING = "JOURNEYBOT_JOURNEY_MAP_PATH"


def _service() -> KnowledgeService:
    from cli.services import knowledge_service

    return knowledge_service()


def _fail_invalid(exc: MapValidationError, as_json: bool, named_by: str = MAP_SETTING) -> None:
    """Every problem with its line; a file that cannot be a map at all in one line that
    names the setting or option it came from."""
    from cli.render import print_json, problem_json
    from knowledge.validation import MapFileError

    if as_json:
        print_json(out, {"valid": False, "problems": [problem_json(p) for p in exc.problems]})
    elif isinstance(exc, MapFileError):
        err.print(f"{named_by}: {exc.path} {exc.reason}", highlight=False, markup=False)
    else:
        err.print(f"[red]{exc}[/red]", highlight=False)
    raise typer.Exit(ExitCode.FAILURE)


def _run_index(service: KnowledgeService, path: Path | None, force: bool = False) -> IndexReport:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    validated = service.validate(path)  # a map that does not validate shows no progress bar
    with Progress(
        TextColumn("[bold]indexing[/bold]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    ) as progress:
        task = progress.add_task("index", total=None)

        def step(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return service.index(path, progress=step, force=force, validated=validated)


def _live_map(service: KnowledgeService) -> JourneyMap:
    from knowledge.live import IndexNotBuilt
    from knowledge.validation import MapValidationError

    try:
        return service.live.current().journey_map
    except IndexNotBuilt:
        err.print("No index yet: indexing the journey map first.")
        try:
            _run_index(service, None)
        except MapValidationError as exc:
            _fail_invalid(exc, as_json=False)
        return service.live.current().journey_map


def validate(
    map_path: Annotated[Path | None, typer.Argument(help="Map file; default JOURNEYBOT_JOURNEY_MAP_PATH.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Check a journey map and list every problem with its line."""
    from cli.render import print_json, problem_json
    from config import load_settings
    from knowledge.validation import MapValidationError, load_map

    try:
        validated = load_map(map_path or load_settings().journey_map_path)
    except MapValidationError as exc:
        _fail_invalid(exc, as_json, named_by="MAP" if map_path else MAP_SETTING)
        return
    m = validated.journey_map
    counts = {
        "stages": len(m.stages),
        "personas": len(m.personas),
        "touchpoints": len(m.touchpoints),
        "assets": len(m.assets),
        "questions": len(m.questions()),
    }
    if as_json:
        print_json(out, {"valid": True, "name": m.name, "version": m.version, "counts": counts,
                         "problems": [problem_json(p) for p in validated.warnings]})
        return
    for warning in validated.warnings:
        err.print(f"[yellow]{warning}[/yellow]", highlight=False)
    out.print(f"[green]valid[/green]: {m.name} v{m.version} — " + ", ".join(f"{v} {k}" for k, v in counts.items()))


def index(
    map_path: Annotated[Path | None, typer.Option("--map", help="Map file to index.")] = None,
    force: Annotated[bool, typer.Option(help="Re-embed everything.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Validate and index the map into Chroma; only changed units are re-embedded."""
    from cli.render import print_json
    from knowledge.validation import MapFileError, MapValidationError

    service = _service()
    try:
        report = _run_index(service, map_path, force)
    except MapValidationError as exc:
        if not isinstance(exc, MapFileError):
            err.print("The map was not indexed; the last good index stays live.")
        _fail_invalid(exc, as_json, named_by="--map" if map_path else MAP_SETTING)
        return
    if as_json:
        print_json(out, report.__dict__)
        return
    state = "unchanged" if report.unchanged else f"{report.embedded} embedded, {report.reused} reused"
    out.print(f"index [bold]{report.collection}[/bold] live: {report.units} units ({state}) in {report.seconds:.2f}s")


def ask(
    question: Annotated[str, typer.Argument(help="The question, as a rep would ask it.")],
    stage: Annotated[str | None, typer.Option(help="Force a stage (id or name).")] = None,
    persona: Annotated[str | None, typer.Option(help="Force a persona (id or name).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Answer a question from the indexed journey map, with sources."""
    if not question.strip():
        err.print('ask needs a question, e.g. journeybot ask "CFO keeps asking about ROI, what do I send?"',
                  highlight=False, markup=False)
        raise typer.Exit(ExitCode.USAGE)
    service = _service()
    service.embeddings.open_in_background()
    from cli.skill_commands import run_skill

    _live_map(service)  # indexes on first use, with a progress bar
    run_skill("ask", "", as_json=as_json, question=question, stage=stage, persona=persona)


def stages(as_json: JsonFlag = False) -> None:
    """The journey's stages with targets and content coverage."""
    from cli.render import print_json, stage_json, stages_table

    journey_map = _live_map(_service())
    if as_json:
        print_json(out, {"map": journey_map.name, "version": journey_map.version, "stages": [stage_json(journey_map,
                                                                                                        s) for s in journey_map.stages]})
    else:
        out.print(stages_table(journey_map))


def content(
    stage: Annotated[str, typer.Option(help="Stage id, name or alias.")],
    persona: Annotated[str | None, typer.Option(help="Persona id, name or alias.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The content assets for a stage (and persona)."""
    from cli.render import asset_json, content_table, print_json
    from knowledge.catalog import UnknownReference, content_for, resolve_persona, resolve_stage

    journey_map = _live_map(_service())
    try:
        stage_obj = resolve_stage(journey_map, stage)
        persona_obj = resolve_persona(journey_map, persona) if persona else None
    except UnknownReference as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(ExitCode.USAGE) from exc
    assets = content_for(journey_map, stage_obj, persona_obj)
    if as_json:
        print_json(out, {"stage": stage_obj.id, "persona": persona_obj.id if persona_obj else None,
                         "assets": [asset_json(a) for a in assets]})
    else:
        out.print(content_table(stage_obj, persona_obj, assets))


