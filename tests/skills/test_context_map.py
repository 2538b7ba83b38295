"""The map CRM skills read (issue #12): taken from the active release's row, so a `churn`,
`velocity` or `account` process loads neither Chroma nor the embedding model."""

from __future__ import annotations

from typing import Any

from knowledge.service import KnowledgeService
from skills.context import SkillContext


def test_the_map_comes_from_the_release_without_the_live_index(sample_service: Any) -> None:
    settings = sample_service.settings
    ctx = SkillContext(settings, KnowledgeService(settings, engine=sample_service.engine))
    journey_map = ctx.journey_map
    assert journey_map == sample_service.live.current().journey_map
    assert ctx.journey_map is journey_map  # parsed once for the same stored map
    built = vars(ctx.knowledge)  # cached_property stores what was built on the instance
    assert "live" not in built and "embeddings" not in built, sorted(built)
