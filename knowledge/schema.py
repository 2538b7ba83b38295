"""The journey map's JSON Schema, generated from the models (docs/journey-map.schema.json),
so editors can validate and autocomplete map files."""

from __future__ import annotations

import json
from typing import Any

from knowledge.models import JourneyMap


def journey_map_schema() -> dict[str, Any]:
    schema = JourneyMap.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "journeybot journey map"
    return schema


def journey_map_schema_text() -> str:
    return json.dumps(journey_map_schema(), indent=2, sort_keys=True) + "\n"
