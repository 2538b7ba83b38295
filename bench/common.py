"""Shared set-up for the benchmarks: settings in a scratch folder, timing helpers."""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from config import Settings
from config.settings import SAMPLE_MAP
from knowledge.models import JourneyMap
from knowledge.validation import load_map

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "data" / "golden_questions.yaml"


def scratch_settings(**overrides: object) -> Settings:
    base = load_settings_for_bench()
    data_dir = Path(tempfile.mkdtemp(prefix="jb-bench-"))
    return Settings.from_mapping({"data_dir": data_dir, "embedding_model_dir": base.embedding_model_dir, **overrides})


def load_settings_for_bench() -> Settings:
    from config import load_settings

    return load_settings()


def sample_map() -> JourneyMap:
    return load_map(SAMPLE_MAP).journey_map


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 50) * 1000, 1),
        "p95_ms": round(percentile(values, 95) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
        "mean_ms": round(statistics.fmean(values) * 1000, 1),
    }
