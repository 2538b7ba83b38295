"""`ask` latency (no LLM) over the golden set on a 5,000-asset index, and quality there.

    python -m bench.retrieval [--assets 5000] [--rounds 3]
Target (2-core machine): p95 <= 150 ms. The first question (model warm-up) is excluded.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

from bench.common import GOLDEN, sample_map, scratch_settings, summary_ms
from bench.mapgen import generate_map
from knowledge.evaluation import GoldenQuestion, evaluate, load_golden
from knowledge.models import JourneyMap
from knowledge.service import KnowledgeService


def run(assets: int, rounds: int) -> dict[str, object]:
    settings = scratch_settings()
    service = KnowledgeService(settings)
    from knowledge.indexing import index_map

    journey_map = generate_map(sample_map(), assets) if assets else sample_map()
    index_map(settings, service.engine, journey_map, service.embeddings)
    golden = load_golden(GOLDEN)
    service.asker.ask(golden[0].question)  # warm-up
    latencies: list[float] = []
    for _ in range(rounds):
        for item in golden:
            started = time.perf_counter()
            service.asker.ask(item.question)
            latencies.append(time.perf_counter() - started)
    retriever = service.live.current().retriever
    clean, noisy = evaluate(retriever, golden), evaluate(retriever, golden, noisy=True)
    equivalent = evaluate(retriever, with_generated_equivalents(golden, journey_map))
    return {
        "assets": len(journey_map.assets),
        "questions": len(latencies),
        **summary_ms(latencies),
        "asset_top3": round(clean.asset_top3, 3),
        "stage_accuracy": round(clean.stage_accuracy, 3),
        "noisy_asset_top3": round(noisy.asset_top3, 3),
        "noisy_stage_accuracy": round(noisy.stage_accuracy, 3),
        "asset_top3_counting_generated_equivalents": round(equivalent.asset_top3, 3),
    }


def with_generated_equivalents(golden: list[GoldenQuestion], journey_map: JourneyMap) -> list[GoldenQuestion]:
    """A generated asset titled by, and answering, the same buyer question as an acceptable
    asset is an equally good answer; count it as acceptable too."""
    answers = {a.id: set(a.answers) for a in journey_map.assets}
    out: list[GoldenQuestion] = []
    for item in golden:
        covered = set().union(*(answers.get(a, set()) for a in item.acceptable_assets))
        extra = tuple(
            a.id for a in journey_map.assets
            if a.id.startswith("as-gen-") and covered & set(a.answers) and item.stage in a.stages
        )
        out.append(replace(item, acceptable_assets=item.acceptable_assets + extra))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assets", type=int, default=5000, help="0 = the sample map as it is")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(run(args.assets, args.rounds), indent=2))


if __name__ == "__main__":
    main()
