"""The published JSON Schema matches the models and accepts the sample map."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from knowledge.schema import journey_map_schema, journey_map_schema_text
from knowledge.yaml_source import parse_yaml

ROOT = Path(__file__).resolve().parents[2]


def test_published_schema_is_current() -> None:
    published = (ROOT / "docs" / "journey-map.schema.json").read_text()
    assert published == journey_map_schema_text(), "regenerate: journeybot schema -o docs/journey-map.schema.json"


def test_sample_map_satisfies_the_schema() -> None:
    data = parse_yaml((ROOT / "knowledge" / "data" / "sample_map.yaml").read_text()).data
    jsonschema.validate(data, journey_map_schema())


def test_schema_rejects_an_unknown_field() -> None:
    data = parse_yaml((ROOT / "tests" / "data" / "mini_map.yaml").read_text()).data
    data["stages"][0]["defintion"] = "typo"
    with pytest.raises(jsonschema.ValidationError, match="defintion"):
        jsonschema.validate(data, journey_map_schema())
