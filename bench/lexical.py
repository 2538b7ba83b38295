"""The lexical half of retrieval: the hand-written BM25 against bm25s + a Snowball stemmer,
each put into the real retriever (same dense half, same mixing, same everything else).

    python -m bench.lexical [--assets 5000]

Per variant: golden set (clean and noisy, as bench.retrieval scores it), the understanding
corpus's dev and test splits (stage, persona, asset in top 3, as bench.understanding
scores them), lexical query latency (both indexes, as one `retrieve` calls them) and
index build time, on the sample map and on a generated map of --assets assets.
Choose on golden + dev; test is reported, never tuned on. The bm25s variants need
`uv pip install bm25s==0.3.16 PyStemmer==3.1.0` (not project dependencies: the hand-written
index was kept, see docs/benchmarks.md); without them only the hand-written one runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.common import GOLDEN, percentile, sample_map
from bench.mapgen import generate_map
from bench.understanding import evaluate as understanding_eval
from bench.understanding import load_items, setup
from knowledge.evaluation import evaluate, load_golden
from knowledge.glossary import expand_acronyms
from knowledge.lexical import BM25, STOPWORDS
from knowledge.models import JourneyMap
from knowledge.text import normalize, words
from knowledge.units import build_units

Index = Any
BM25S_PACKAGES = "bm25s==0.3.16 PyStemmer==3.1.0"


class SnowballBM25:
    """The hand-written index's interface (docs in, `scores(query)` -> {doc id: score > 0})
    backed by bm25s (sparse-matrix BM25, Lucene scoring) and PyStemmer's Snowball English
    stemmer. `project_words`: knowledge.lexical's word rule and stopwords instead of bm25s's
    own (regex `\\w\\w+`, its 33-word English list)."""

    def __init__(
        self, docs: dict[str, str], *, k1: float = 1.5, b: float = 0.75, project_words: bool = False
    ) -> None:
        import bm25s
        import Stemmer

        self._bm25s = bm25s
        self._stemmer = Stemmer.Stemmer("english")
        self._project_words = project_words
        self.ids = list(docs)
        self.index = bm25s.BM25(k1=k1, b=b)
        if self.ids:
            self.index.index(self.tokens(list(docs.values())), show_progress=False)

    def tokens(self, texts: list[str]) -> list[list[str]]:
        if self._project_words:
            return [
                self._stemmer.stemWords([w for w in words(t) if w not in STOPWORDS and len(w) > 1]) for t in texts
            ]
        return self._bm25s.tokenize(
            texts, stopwords="english", stemmer=self._stemmer, return_ids=False, show_progress=False
        )

    def scores(self, query: str) -> dict[str, float]:
        if not self.ids:
            return {}
        vocab = self.index.vocab_dict
        ids = sorted({vocab[t] for t in self.tokens([query])[0] if t in vocab})  # each term once, as BM25 does
        if not ids:
            return {}
        found = self.index.get_scores(ids)
        return {self.ids[i]: float(found[i]) for i in found.nonzero()[0]}


def bm25s_available() -> bool:
    try:
        import bm25s  # noqa: F401
        import Stemmer  # noqa: F401
    except ImportError:
        return False
    return True


VARIANTS: dict[str, Callable[[dict[str, str]], Index]] = {
    # k1 1.2, b 0.75; the module's word rule, stopwords and suffix stemmer
    "handwritten": BM25,
    # bm25s as it comes: its tokenizer and English stopwords, Snowball stemmer, k1 1.5, b 0.75
    "bm25s": SnowballBM25,
    # only the engine and the stemmer changed: the module's word rule and stopwords, k1 1.2
    "bm25s_project_words": lambda docs: SnowballBM25(docs, k1=1.2, project_words=True),
    # the best of a k1 x b x tokenizer sweep (0.9-2.0 x 0.5-0.9 x both) on golden + dev only
    "bm25s_tuned_on_dev": lambda docs: SnowballBM25(docs, k1=2.0, b=0.5, project_words=True),
}


def corpora(journey_map: JourneyMap) -> tuple[dict[str, str], dict[str, str]]:
    units = build_units(journey_map)
    return ({u.id: u.text for u in units if u.kind == "asset"}, {u.id: u.text for u in units if u.kind == "question"})


def build(make: Callable[[dict[str, str]], Index], journey_map: JourneyMap, repeats: int) -> tuple[Index, Index, float]:
    """Both indexes, as the retriever builds them; the median build time in ms."""
    assets, questions = corpora(journey_map)
    times: list[float] = []
    for _ in range(repeats):
        started = time.perf_counter()
        asset_index, question_index = make(assets), make(questions)
        times.append((time.perf_counter() - started) * 1000)
    return asset_index, question_index, round(statistics.median(times), 2)


def query_ms(asset_index: Index, question_index: Index, queries: list[str]) -> dict[str, float]:
    expanded = [expand_acronyms(normalize(q)) for q in queries]
    for q in expanded[:5]:  # warm-up
        asset_index.scores(q), question_index.scores(q)
    timings: list[float] = []
    for q in expanded:
        started = time.perf_counter()
        asset_index.scores(q)
        question_index.scores(q)
        timings.append((time.perf_counter() - started) * 1000)
    return {"query_p50_ms": round(percentile(timings, 50), 3), "query_p95_ms": round(percentile(timings, 95), 3)}


def run(assets: int) -> dict[str, Any]:
    _, retriever, understander = setup()
    golden = load_golden(GOLDEN)
    splits = {name: load_items(name) for name in ("dev", "test")}
    queries = [g.question for g in golden] + [i["text"] for items in splits.values() for i in items]
    base = sample_map()
    big = generate_map(base, assets)
    out: dict[str, Any] = {
        "queries_timed": len(queries),
        "sample_map": dict(zip(("asset_docs", "question_docs"), map(len, corpora(base)), strict=True)),
        f"generated_map_{assets}": dict(zip(("asset_docs", "question_docs"), map(len, corpora(big)), strict=True)),
        "variants": {},
    }
    variants = VARIANTS if bm25s_available() else {"handwritten": BM25}
    if len(variants) < len(VARIANTS):
        out["skipped"] = f"bm25s variants: install {BM25S_PACKAGES}"
    for name, make in variants.items():
        asset_index, question_index, build_ms = build(make, retriever.journey_map, repeats=5)
        retriever.asset_lexical, retriever.question_lexical = asset_index, question_index
        clean, noisy = evaluate(retriever, golden), evaluate(retriever, golden, noisy=True)
        row: dict[str, Any] = {
            "golden": {
                "asset_top3": round(clean.asset_top3, 3), "stage_accuracy": round(clean.stage_accuracy, 3),
                "noisy_asset_top3": round(noisy.asset_top3, 3), "noisy_stage_accuracy": round(noisy.stage_accuracy, 3),
            },
        }
        for split, items in splits.items():
            summary = understanding_eval(retriever, understander, items).summary()
            row[split] = {key: summary[key] for key in ("asset_top3", "stage", "persona")}
        row["sample_map_latency"] = {"build_ms": build_ms, **query_ms(asset_index, question_index, queries)}
        big_assets, big_questions, big_build_ms = build(make, big, repeats=1)
        row[f"generated_map_{assets}_latency"] = {"build_ms": big_build_ms, **query_ms(big_assets, big_questions, queries)}
        out["variants"][name] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assets", type=int, default=5000, help="size of the generated map for the latency figures")
    args = parser.parse_args()
    print(json.dumps(run(args.assets), indent=2))


if __name__ == "__main__":
    main()
