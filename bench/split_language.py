"""Split the non-English questions once into dev and test (stratified by language, fixed
seed). Run once when the data was written; tune on dev only, assert test in CI.

    python -m bench.split_language   # refuses to overwrite an existing split
"""

from __future__ import annotations

import random
import sys
from collections import defaultdict

import yaml

from bench.common import ROOT

DATA = ROOT / "tests" / "data" / "language"
SEED = 20261126


def main() -> None:
    if (DATA / "dev.yaml").exists() or (DATA / "test.yaml").exists():
        sys.exit("the questions are split already: a second split would leak test items into tuning")
    items = yaml.safe_load((DATA / "non_english.yaml").read_text(encoding="utf-8"))
    by_language: dict[str, list[dict[str, str]]] = defaultdict(list)
    for item in items:
        by_language[item["language"]].append(item)
    rng = random.Random(SEED)
    dev: list[dict[str, str]] = []
    test: list[dict[str, str]] = []
    for language in sorted(by_language):
        group = by_language[language]
        rng.shuffle(group)
        half = len(group) // 2
        dev += group[:half]
        test += group[half:]
    header = "# {} split of non_english.yaml (seed {}, stratified by language). {}\n"
    for name, part, note in (("dev", dev, "Tune on this one only."), ("test", test, "Never tune on this one.")):
        text = header.format(name, SEED, note) + yaml.safe_dump(part, sort_keys=False, allow_unicode=True, width=120)
        (DATA / f"{name}.yaml").write_text(text, encoding="utf-8")
    print(f"dev {len(dev)}, test {len(test)}")


if __name__ == "__main__":
    main()
