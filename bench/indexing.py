"""Index throughput: the sample map and a generated 5,000-asset map, cold and unchanged.

    python -m bench.indexing [--assets 5000]
Targets (2-core machine): full 5,000-asset index <= 60 s, unchanged re-index <= 2 s.
"""

from __future__ import annotations

import argparse
import json
import time

from bench.common import sample_map, scratch_settings
from bench.mapgen import generate_map
from knowledge.indexing import index_map
from knowledge.service import KnowledgeService
from knowledge.units import build_units


def run(assets: int) -> dict[str, object]:
    results: dict[str, object] = {}
    for label, journey_map in (("sample", sample_map()), (f"generated_{assets}", generate_map(sample_map(), assets))):
        settings = scratch_settings()
        service = KnowledgeService(settings)
        engine, embeddings = service.engine, service.embeddings
        units = len(build_units(journey_map))
        started = time.perf_counter()
        cold = index_map(settings, engine, journey_map, embeddings)
        cold_s = time.perf_counter() - started
        started = time.perf_counter()
        again = index_map(settings, engine, journey_map, embeddings)
        unchanged_s = time.perf_counter() - started
        first = journey_map.assets[0].model_copy(update={"summary": "Edited summary for the benchmark."})
        edited = journey_map.model_copy(update={"assets": [first, *journey_map.assets[1:]]})
        started = time.perf_counter()
        one = index_map(settings, engine, edited, embeddings)
        one_s = time.perf_counter() - started
        results[label] = {
            "document_max_tokens": settings.embedding_document_max_tokens,
            "assets": len(journey_map.assets),
            "units": units,
            "cold_s": round(cold_s, 2),
            "units_per_s": round(units / cold_s, 1),
            "unchanged_reindex_s": round(unchanged_s, 3),
            "unchanged": again.unchanged,
            "one_asset_changed_s": round(one_s, 2),
            "one_asset_changed_embedded": one.embedded,
        }
        assert cold.embedded == units and again.unchanged, (cold, again)
        assert one.embedded == 1, one
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assets", type=int, default=5000)
    args = parser.parse_args()
    print(json.dumps(run(args.assets), indent=2))


if __name__ == "__main__":
    main()
