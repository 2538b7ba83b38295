"""Calibrates the gap audit's semantic-match threshold on the sample map.

    python -m bench.gap_threshold [--target 0.95]

Positives are the map's explicit (question, asset) links; negatives every other asset of
the question's stage. Prints precision / recall of "cosine >= t means it answers" per
candidate t, how many explicitly answered questions the top same-stage asset would
still cover at t (question level), and how many unlinked questions t would call covered.
The chosen value lives in skills.coverage.SEMANTIC_THRESHOLD.
"""

from __future__ import annotations

import argparse

import numpy as np

from bench.common import load_settings_for_bench, sample_map
from knowledge.embeddings import shared_embeddings
from knowledge.models import JourneyMap
from skills.coverage import SEMANTIC_THRESHOLD, calibration_pairs, precision_recall, similarity


def question_level(journey_map: JourneyMap, scores: np.ndarray, threshold: float) -> tuple[int, int, int, int]:
    """(explicit questions whose best same-stage asset is >= t, of those how many are a
    true answerer, explicit questions in all, unlinked questions whose best is >= t)."""
    assets = journey_map.assets
    kept = correct = explicit = unlinked_kept = 0
    for row, (stage, question) in enumerate(journey_map.questions()):
        cols = [c for c, a in enumerate(assets) if stage.id in a.stages]
        if not cols:
            continue
        best = max(cols, key=lambda c: scores[row, c])
        linked = any(question.id in assets[c].answers for c in cols)
        explicit += linked
        if scores[row, best] >= threshold:
            if linked:
                kept += 1
                correct += question.id in assets[best].answers
            else:
                unlinked_kept += 1
    return kept, correct, explicit, unlinked_kept


def main() -> None:
    parser = argparse.ArgumentParser(description="Calibrate the gap audit's semantic-match threshold.")
    parser.add_argument("--target", type=float, default=0.95, help="precision the suggestion must reach")
    options = parser.parse_args()
    journey_map = sample_map()
    settings = load_settings_for_bench()
    scores = similarity(journey_map, shared_embeddings(settings.embedding_model_dir))
    pairs = calibration_pairs(journey_map, scores)
    positives = sum(p for _, p in pairs)
    print(f"{len(pairs)} same-stage question x asset pairs, {positives} explicit links")
    print(f"{'t':>6} {'kept':>5} {'precision':>9} {'recall':>6} | top-1 kept/right/of  unlinked>=t")
    suggestion: float | None = None
    for threshold in np.round(np.arange(0.40, 0.801, 0.025), 3):
        precision, recall, kept = precision_recall(pairs, float(threshold))
        q_kept, q_right, q_all, unlinked = question_level(journey_map, scores, float(threshold))
        mark = " <- current" if abs(threshold - SEMANTIC_THRESHOLD) < 1e-9 else ""
        print(
            f"{threshold:6.3f} {kept:5d} {precision:9.3f} {recall:6.3f} | "
            f"{q_kept:4d}/{q_right:4d}/{q_all:3d} {unlinked:11d}{mark}"
        )
        if suggestion is None and precision >= options.target:
            suggestion = float(threshold)
    print(f"lowest threshold with precision >= {options.target}: {suggestion}")


if __name__ == "__main__":
    main()
