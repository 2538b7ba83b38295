"""Validation of a journey map: every problem at once, each with file, line and field.

Schema problems come from the pydantic models; the reference checks (unknown ids,
duplicates, stage order) run on the raw data too, so one pass shows everything.
A map with any error is never indexed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from knowledge.errors import InputError
from knowledge.models import JourneyMap
from knowledge.yaml_source import Path_, SourceDoc, YamlSyntaxError, parse_yaml

KNOWN_LIFECYCLE_STAGES = frozenset(
    {"subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer", "evangelist", "other"}
)


@dataclass(frozen=True)
class MapProblem:
    file: str
    line: int | None
    path: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {self.path}:" if self.path else ""
        return f"{where}: {self.severity}:{field} {self.message}"


class MapValidationError(InputError):
    """The map has errors; `problems` lists all of them. An input error: a skill run on
    a broken map says what is wrong with it instead of reporting a bug."""

    def __init__(self, problems: list[MapProblem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(f"{len(errors)} problem(s) in the journey map:\n" + "\n".join(str(p) for p in errors))


class MapFileError(MapValidationError):
    """The file itself cannot be a map (missing, unreadable, binary, not UTF-8): one
    problem, no line; the CLI says which setting or option named the file."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__([MapProblem(path, None, "", message)])
        self.path = path
        self.reason = message


# The first bytes of files people mistake for a map.
_MAGIC = ((b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
          (b"%PDF", "a PDF document"), (b"PK\x03\x04", "a ZIP archive (a .docx/.xlsx file?)"))


@dataclass(frozen=True)
class ValidatedMap:
    journey_map: JourneyMap
    source: str
    warnings: list[MapProblem]


def format_path(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_map(path: Path) -> ValidatedMap:
    """Read, parse and validate the map file; raise MapValidationError listing every problem."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MapFileError(str(path), f"cannot read the file: {exc.strerror}") from exc
    for magic, kind in _MAGIC:
        if raw.startswith(magic):
            raise MapFileError(str(path), f"is {kind}, not a YAML journey map")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MapFileError(str(path), f"is not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start}): "
                                      "a journey map is a YAML file") from exc
    if "\x00" in text:
        raise MapFileError(str(path), "is a binary file, not a YAML journey map")
    return validate_text(text, str(path))


def validate_text(text: str, source: str = "<map>") -> ValidatedMap:
    try:
        doc = parse_yaml(text)
    except YamlSyntaxError as exc:
        raise MapValidationError([MapProblem(source, exc.line, "", f"not valid YAML: {exc}")]) from exc
    problems = list(_problems(doc, source))
    journey_map: JourneyMap | None = None
    if isinstance(doc.data, dict):
        try:
            journey_map = JourneyMap.model_validate(doc.data)
        except ValidationError as exc:
            problems.extend(_schema_problems(exc, doc, source))
    errors = [p for p in problems if p.severity == "error"]
    if errors or journey_map is None:
        raise MapValidationError(sorted(problems, key=lambda p: (p.line or 0, p.path)))
    return ValidatedMap(journey_map, source, [p for p in problems if p.severity == "warning"])


def _schema_problems(exc: ValidationError, doc: SourceDoc, source: str) -> Iterator[MapProblem]:
    for error in exc.errors():
        loc: Path_ = tuple(error["loc"])
        message = error["msg"]
        if error["type"] == "missing":
            message = f"required field {loc[-1]!r} is missing"
        elif error["type"] == "extra_forbidden":
            message = f"unknown field {loc[-1]!r} (check its spelling)"
        elif "input" in error and error["type"] not in ("missing",):
            shown = repr(error["input"])
            message = f"{message} (got {shown[:60]})"
        yield MapProblem(source, doc.line_of(loc), format_path(loc), message)


def _items(data: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    value = data.get(key)
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _str_list(value: Any) -> list[tuple[int, str]]:
    if not isinstance(value, list):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, str)]


def _problems(doc: SourceDoc, source: str) -> Iterator[MapProblem]:
    def problem(path: Path_, message: str, severity: Literal["error", "warning"] = "error") -> MapProblem:
        return MapProblem(source, doc.line_of(path), format_path(path), message, severity)

    for path, line in doc.duplicate_keys:
        yield MapProblem(source, line, format_path(path), f"key {path[-1]!r} appears twice in the same mapping")
    data = doc.data
    if not isinstance(data, dict):
        yield problem((), "the map must be a YAML mapping with name, version, owner, stages, personas, ...")
        return

    ids: dict[str, set[str]] = {}
    for kind in ("stages", "personas", "touchpoints", "assets"):
        ids[kind], duplicates = _unique_ids(data, kind, problem)
        yield from duplicates
    stages, personas = ids["stages"], ids["personas"]

    question_ids: set[str] = set()
    deal_stage_owner: dict[str, str] = {}
    last_order: int | None = None
    for i, stage in _items(data, "stages"):
        order = stage.get("order")
        if isinstance(order, int) and not isinstance(order, bool):
            if last_order is not None and order <= last_order:
                yield problem(("stages", i, "order"), f"stages out of order: order {order} comes after {last_order}")
            last_order = order
        for j, question in _items(stage, "questions"):
            qid = question.get("id")
            if isinstance(qid, str):
                if qid in question_ids:
                    yield problem(("stages", i, "questions", j, "id"), f"duplicate question id {qid!r}")
                question_ids.add(qid)
            for k, pid in _str_list(question.get("personas")):
                if pid not in personas:
                    yield problem(("stages", i, "questions", j, "personas", k), _unknown("persona", pid, personas))
        raw_hubspot = stage.get("hubspot")
        hubspot: dict[str, Any] = raw_hubspot if isinstance(raw_hubspot, dict) else {}
        for k, deal_stage in _str_list(hubspot.get("deal_stages")):
            other = deal_stage_owner.setdefault(deal_stage, str(stage.get("id")))
            if other != str(stage.get("id")):
                yield problem(("stages", i, "hubspot", "deal_stages", k), f"deal stage {deal_stage!r} is already mapped to stage {other!r}")
        for k, lifecycle in _str_list(hubspot.get("lifecycle_stages")):
            if lifecycle not in KNOWN_LIFECYCLE_STAGES:
                yield problem(("stages", i, "hubspot", "lifecycle_stages", k),
                              f"{lifecycle!r} is not a default HubSpot lifecycle stage (fine if your portal defines it)", "warning")

    for i, persona in _items(data, "personas"):
        motivations = persona.get("stage_motivations")
        if isinstance(motivations, dict):
            for key in motivations:
                if key not in stages:
                    yield problem(("personas", i, "stage_motivations", key), _unknown("stage", str(key), stages))
        for k, pattern in _str_list(persona.get("job_title_patterns")):
            try:
                re.compile(pattern)
            except re.error as exc:
                yield problem(("personas", i, "job_title_patterns", k), f"not a valid regular expression: {exc}")

    for kind in ("touchpoints", "assets"):
        for i, item in _items(data, kind):
            for k, sid in _str_list(item.get("stages")):
                if sid not in stages:
                    yield problem((kind, i, "stages", k), _unknown("stage", sid, stages))
            for k, pid in _str_list(item.get("personas")):
                if pid not in personas:
                    yield problem((kind, i, "personas", k), _unknown("persona", pid, personas))
    today = dt.date.today()
    for i, asset in _items(data, "assets"):
        for k, qid in _str_list(asset.get("answers")):
            if qid not in question_ids:
                yield problem(("assets", i, "answers", k), _unknown("question", qid, question_ids))
        reviewed = _as_date(asset.get("last_reviewed"))
        if reviewed is not None and reviewed > today:
            yield problem(("assets", i, "last_reviewed"), f"last_reviewed {reviewed} is in the future")


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _unique_ids(data: dict[str, Any], key: str, problem: Any) -> tuple[set[str], list[MapProblem]]:
    seen: set[str] = set()
    problems: list[MapProblem] = []
    for i, item in _items(data, key):
        item_id = item.get("id")
        if isinstance(item_id, str):
            if item_id in seen:
                problems.append(problem((key, i, "id"), f"duplicate id {item_id!r} in {key}"))
            seen.add(item_id)
    return seen, problems


def _unknown(kind: str, value: str, known: set[str]) -> str:
    from rapidfuzz import process

    message = f"unknown {kind} {value!r}"
    if known:
        match = process.extractOne(value, sorted(known), score_cutoff=60)
        if match:
            message += f" (did you mean {match[0]!r}?)"
    return message
