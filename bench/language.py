"""How well the English-only check (knowledge/language.py) tells English from other
languages, and what it costs.

    python -m bench.language [--split dev|test] [--misses]

Non-English: tests/data/language/{dev,test}.yaml (split once by bench/split_language.py;
tune on dev only). English: every utterance of tests/data/understanding/corpus.yaml,
tests/data/second_map_questions.yaml, the skills' example utterances and
tests/data/language/english_terse.yaml, whatever the split. Targets on the test split:
non-English recall >= 0.95, English false positives 0 (at most 1); p95 well under 5 ms
for a 30-word text.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from typing import Any

import yaml

from bench.common import ROOT, load_settings_for_bench, percentile
from knowledge.language import LanguageCheck, LanguageDetector, detector_for
from skills.builtin import default_registry

DATA = ROOT / "tests" / "data"
LANGUAGE = DATA / "language"
TIMED_WORDS = 30
REPEATS = 5


def english_texts() -> list[str]:
    """Every English utterance the project has: none may be taken for another language."""
    texts = [str(i["text"]) for i in _yaml(DATA / "understanding" / "corpus.yaml")]
    texts += [str(i["question"]) for i in _yaml(DATA / "second_map_questions.yaml")]
    texts += [u for skill in default_registry().skills.values() for u in skill.utterances]
    texts += [str(t) for t in _yaml(LANGUAGE / "english_terse.yaml")]
    return texts


def non_english(split: str) -> list[dict[str, str]]:
    return [{"text": str(i["text"]), "language": str(i["language"])} for i in _yaml(LANGUAGE / f"{split}.yaml")]


def _yaml(path: Any) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@dataclass
class Result:
    recall: float
    non_english: int
    missed: list[dict[str, Any]]
    named_right: float
    english: int
    false_positives: list[dict[str, Any]]

    def summary(self, *, misses: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "non_english": self.non_english,
            "non_english_recall": self.recall,
            "language_named_right": self.named_right,
            "english": self.english,
            "english_false_positives": len(self.false_positives),
            "english_false_positive_rate": round(len(self.false_positives) / self.english, 4) if self.english else 0.0,
            "false_positive_texts": [f["text"] for f in self.false_positives],
        }
        if misses:
            out["missed"] = self.missed
        return out


def evaluate(detector: LanguageDetector, split: str) -> Result:
    items = non_english(split)
    checks = [(item, detector.check(item["text"])) for item in items]
    missed = [_row(item["text"], check, item["language"]) for item, check in checks if check.english]
    named = sum(check.language == item["language"] for item, check in checks if not check.english)
    english = english_texts()
    false_positives = [_row(text, check) for text in english if not (check := detector.check(text)).english]
    flagged = len(items) - len(missed)
    return Result(
        recall=round(flagged / len(items), 4) if items else 0.0,
        non_english=len(items),
        missed=missed,
        named_right=round(named / flagged, 4) if flagged else 0.0,
        english=len(english),
        false_positives=false_positives,
    )


def _row(text: str, check: LanguageCheck, expected: str | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"text": text, "language": check.language, "confidence": check.confidence}
    if expected:
        row["expected"] = expected
    return row


def timings(detector: LanguageDetector, texts: list[str]) -> dict[str, float]:
    """Milliseconds per check after warm-up: each text as it is, and 30-word texts made by
    joining consecutive ones (the length the target is stated for)."""
    detector.check("warm-up: load the identifier once")
    long_texts: list[str] = []
    words: list[str] = []
    for text in texts:
        words += text.split()
        if len(words) >= TIMED_WORDS:
            long_texts.append(" ".join(words[:TIMED_WORDS]))
            words = []
    out: dict[str, float] = {}
    for name, batch in (("", texts), ("_30_words", long_texts)):
        spent: list[float] = []
        for _ in range(REPEATS):
            for text in batch:
                started = time.perf_counter()
                detector.check(text)
                spent.append((time.perf_counter() - started) * 1000)
        out[f"p50_ms{name}"] = round(percentile(spent, 50), 3)
        out[f"p95_ms{name}"] = round(percentile(spent, 95), 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--misses", action="store_true", help="list the missed non-English texts")
    args = parser.parse_args()
    started = time.perf_counter()
    detector = detector_for(load_settings_for_bench().embedding_model_dir)
    detector.check("warm-up")
    load_s = time.perf_counter() - started
    result = evaluate(detector, args.split)
    texts = [i["text"] for i in non_english(args.split)] + english_texts()
    report = {"split": args.split, **result.summary(misses=args.misses), **timings(detector, texts),
              "load_s": round(load_s, 2)}
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
