"""The lexical half of retrieval (hand-written BM25) and the bench that compares it with
bm25s + a Snowball stemmer (bench/lexical.py; those packages are installed for the bench
only, so the comparison itself lives there, not here)."""

from __future__ import annotations

from bench.common import sample_map
from bench.lexical import build, query_ms
from knowledge.lexical import BM25

DOCS = {
    "pricing": "Pricing page: plans, prices and discounts for every company size",
    "security": "Security overview: SOC 2 report, SSO and the security questionnaire",
    "onboarding": "Onboarding checklist for the first week after signing",
}


def test_the_index_scores_only_the_documents_that_match() -> None:
    index = BM25(DOCS)
    found = index.scores("what does the SOC 2 security questionnaire cover?")
    assert set(found) == {"security"} and found["security"] > 0
    assert index.scores("the and of") == {}
    assert BM25({}).scores("security") == {}


def test_the_bench_builds_and_times_the_index_on_the_sample_map() -> None:
    asset_index, question_index, build_ms = build(BM25, sample_map(), repeats=1)
    assert build_ms > 0
    assert asset_index.scores("ROI calculator for the CFO")
    assert question_index.scores("how long does implementation take")
    timing = query_ms(asset_index, question_index, ["ROI calculator for the CFO", "<@U0JOURNEY> SOC 2 report? :pray:"])
    assert 0 < timing["query_p50_ms"] <= timing["query_p95_ms"]
