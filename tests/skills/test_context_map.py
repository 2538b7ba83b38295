"""The map CRM skills read (issue #12): a `churn`, `velocity` or `account` process reads
the live map without opening Chroma or creating the embedding model's ONNX session."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

from config import Settings
from knowledge.service import KnowledgeService
from tests.conftest import MINI_MAP, ROOT

_READER = """
import json, sys
from config import Settings
from knowledge.service import KnowledgeService
from skills.context import SkillContext
settings = Settings.from_mapping(json.loads(sys.argv[1]))
knowledge = KnowledgeService(settings)
ctx = SkillContext(settings, knowledge)
journey_map = ctx.journey_map
print(json.dumps({"stages": [s.id for s in journey_map.stages], "same": ctx.journey_map is journey_map,
                  "chromadb": any(m.split(".")[0] == "chromadb" for m in sys.modules),
                  "onnx_session": knowledge.embeddings._session is not None}))
"""


def test_the_map_is_read_without_chroma_or_the_model(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    indexed = KnowledgeService(settings).index(MINI_MAP)
    values = {"data_dir": str(settings.data_dir), "embedding_model_dir": str(settings.embedding_model_dir),
              "journey_map_path": str(settings.journey_map_path)}
    done = subprocess.run([sys.executable, "-c", _READER, json.dumps(values)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    assert indexed.collection and seen["stages"] and seen["same"]
    assert (seen["chromadb"], seen["onnx_session"]) == (False, False)
