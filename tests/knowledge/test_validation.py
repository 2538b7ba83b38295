"""Malformed maps: every problem reported at once, each naming its field and line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from knowledge.validation import MapValidationError, load_map, validate_text

MINI = Path(__file__).resolve().parent.parent / "data" / "mini_map.yaml"
SAMPLE = Path(__file__).resolve().parents[2] / "knowledge" / "data" / "sample_map.yaml"


def mini_text() -> str:
    return MINI.read_text()


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing `needle`."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return hits[occurrence - 1]


def problems_of(text: str) -> list:
    with pytest.raises(MapValidationError) as info:
        validate_text(text, "map.yaml")
    return [p for p in info.value.problems if p.severity == "error"]


def test_sample_and_mini_maps_are_valid() -> None:
    sample = load_map(SAMPLE).journey_map
    assert len(sample.stages) == 8 and len(sample.personas) == 5
    assert len(sample.touchpoints) >= 40 and len(sample.assets) >= 80 and len(sample.questions()) >= 100
    assert load_map(MINI).journey_map.name == "Mini map"


# (name, edit applied to the mini map's text, expected path fragment, expected message fragment, line needle)
CASES = [
    ("unknown stage in asset", ("stages: [decision]\n    personas: [cfo]", "stages: [decison]\n    personas: [cfo]"), "assets[1].stages[0]", "unknown stage 'decison' (did you mean 'decision'?)", "stages: [decison]"),
    ("unknown persona in asset", ("personas: [cfo]\n    answers: [de-q01]", "personas: [cfoo]\n    answers: [de-q01]"), "assets[1].personas[0]", "unknown persona 'cfoo'", "personas: [cfoo]"),
    ("unknown question in asset", ("answers: [co-q02]", "answers: [co-q99]"), "assets[2].answers[0]", "unknown question 'co-q99'", "answers: [co-q99]"),
    ("unknown persona on question", ("personas: [it-lead]\n      - id: co-q02", "personas: [it-boss]\n      - id: co-q02"), "stages[1].questions[0].personas[0]", "unknown persona 'it-boss'", "personas: [it-boss]"),
    ("unknown stage in touchpoint", ("stages: [awareness]\n    online: true", "stages: [awarness]\n    online: true"), "touchpoints[0].stages[0]", "unknown stage 'awarness'", "stages: [awarness]"),
    ("duplicate asset id", ("id: as-case-study", "id: as-roi-calculator"), "assets[2].id", "duplicate id 'as-roi-calculator'", "id: as-roi-calculator#2"),
    ("duplicate question id", ("id: co-q02", "id: co-q01"), "stages[1].questions[1].id", "duplicate question id 'co-q01'", "id: co-q01#2"),
    ("duplicate stage id", ("id: decision", "id: consideration"), "stages[2].id", "duplicate id 'consideration'", "id: consideration#2"),
    ("missing required field", ("    definition: The buyer negotiates terms and gets sign-off from finance.\n", ""), "stages[2]", "required field 'definition' is missing", "id: decision"),
    ("misspelt field", ("trigger_in: Books a demo", "triger_in: Books a demo"), "stages[1].triger_in", "unknown field 'triger_in'", "triger_in: Books a demo"),
    ("wrong type", ("target_days_in_stage: 18", "target_days_in_stage: soon"), "stages[1].target_days_in_stage", "number", "target_days_in_stage: soon"),
    ("bad url", ("url: https://www.fieldline.example/roi", "url: not a url"), "assets[1].url", "URL", "url: not a url"),
    ("bad date", ("last_reviewed: 2026-05-01", "last_reviewed: 2026-13-45"), "assets[1].last_reviewed", "date", "last_reviewed: 2026-13-45"),
    ("future date", ("last_reviewed: 2026-05-01", "last_reviewed: 2999-05-01"), "assets[1].last_reviewed", "in the future", "last_reviewed: 2999-05-01"),
    ("stages out of order", ("order: 3", "order: 1"), "stages[2].order", "stages out of order", "order: 1\n    aliases: [negotiation]"),
    ("bad owner team", ("owner_team: marketing", "owner_team: growth"), "stages[0].owner_team", "marketing", "owner_team: growth"),
    ("bad committee role", ("role: financial_gatekeeper", "role: bean_counter"), "personas[0].role", "economic_buyer", "role: bean_counter"),
    ("bad regex", ("job_title_patterns: ['\\bit\\b|security|architect']", "job_title_patterns: ['(unclosed']"), "personas[1].job_title_patterns[0]", "not a valid regular expression", "(unclosed"),
    ("deal stage mapped twice", ("deal_stages: [appointmentscheduled, qualifiedtobuy]", "deal_stages: [appointmentscheduled, contractsent]"), "stages[2].hubspot.deal_stages[2]", "already mapped to stage 'consideration'", "deal_stages: [presentationscheduled"),
    ("duplicate key", ("    trigger_out: Signs the contract\n", "    trigger_out: Signs the contract\n    trigger_out: Signs it again\n"), "stages[2].trigger_out", "appears twice", "trigger_out: Signs it again"),
    ("unknown stage in motivations", ("decision: Wants proof", "closing: Wants proof"), "personas[0].stage_motivations.closing", "unknown stage 'closing'", "closing: Wants proof"),
    ("bad id format", ("id: tp-webinar", "id: TP Webinar!"), "touchpoints[0].id", "pattern", "id: TP Webinar!"),
]


@pytest.mark.parametrize("name,edit,path,message,needle", CASES, ids=[c[0] for c in CASES])
def test_malformed_map_names_field_and_line(name: str, edit: tuple[str, str], path: str, message: str, needle: str) -> None:
    original = mini_text()
    assert edit[0] in original, f"test edit for {name} does not apply"
    text = original.replace(edit[0], edit[1], 1)
    problems = problems_of(text)
    matching = [p for p in problems if p.path.startswith(path) and message.lower() in p.message.lower()]
    assert matching, f"{name}: expected {path} / {message!r}, got {[str(p) for p in problems]}"
    if "\n" in needle:
        expected_line = _line_of_block(text, needle)
    else:
        needle, _, nth = needle.partition("#")
        expected_line = line_of(text, needle, int(nth or 1))
    assert matching[0].line == expected_line, f"{name}: line {matching[0].line} != {expected_line}: {matching[0]}"
    assert str(matching[0]).startswith(f"map.yaml:{expected_line}: error:")


def _line_of_block(text: str, block: str) -> int:
    index = text.index(block)
    return text[:index].count("\n") + 1


def test_every_problem_is_reported_at_once() -> None:
    text = mini_text().replace("stages: [decision]\n    personas: [cfo]", "stages: [decison]\n    personas: [cfo]")
    text = text.replace("id: as-case-study", "id: as-roi-calculator").replace("target_days_in_stage: 18", "target_days_in_stage: soon")
    text = text.replace("url: https://www.fieldline.example/roi", "url: ftp//nope")
    problems = problems_of(text)
    paths = {p.path for p in problems}
    assert {"assets[1].stages[0]", "assets[2].id", "stages[1].target_days_in_stage", "assets[1].url"} <= paths


def test_syntax_error_gives_the_line() -> None:
    text = mini_text().replace("goals: [Pick a shortlist]", "goals: [Pick a shortlist")
    problems = problems_of(text)
    assert len(problems) == 1 and "not valid YAML" in problems[0].message
    assert problems[0].line is not None and abs(problems[0].line - line_of(text, "goals: [Pick a shortlist")) <= 2


@pytest.mark.parametrize("text", ["", "- just\n- a list\n", "name: only a name\n"])
def test_not_a_map(text: str) -> None:
    problems = problems_of(text)
    assert problems and all(p.file == "map.yaml" for p in problems)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(MapValidationError, match="cannot read the file"):
        load_map(tmp_path / "missing.yaml")


def test_unknown_lifecycle_stage_is_only_a_warning() -> None:
    data = yaml.safe_load(mini_text())
    data["stages"][0]["hubspot"]["lifecycle_stages"] = ["subscriber", "partnerlead"]
    validated = validate_text(yaml.safe_dump(data, sort_keys=False), "map.yaml")
    assert [w.path for w in validated.warnings] == ["stages[0].hubspot.lifecycle_stages[1]"]
