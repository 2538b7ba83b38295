"""Split the understanding corpus once into dev and test (stratified by skill, fixed
seed). Run once when the corpus was written; tune on dev only, assert test in CI.

    python -m bench.split_corpus   # refuses to overwrite an existing split
"""

from __future__ import annotations

import random
import sys
from collections import defaultdict

import yaml

from bench.understanding import DATA

SEED = 20261125


def main() -> None:
    if (DATA / "dev.yaml").exists() or (DATA / "test.yaml").exists():
        sys.exit("the corpus is split already: a second split would leak test items into tuning")
    items = yaml.safe_load((DATA / "corpus.yaml").read_text(encoding="utf-8"))
    by_skill: dict[str, list[dict[str, object]]] = defaultdict(list)
    for item in items:
        by_skill[str(item["skill"])].append(item)
    rng = random.Random(SEED)
    dev: list[dict[str, object]] = []
    test: list[dict[str, object]] = []
    for skill in sorted(by_skill):
        group = by_skill[skill]
        rng.shuffle(group)
        half = len(group) // 2
        dev += group[:half]
        test += group[half:]
    header = "# {} split of corpus.yaml (seed {}, stratified by skill). {}\n"
    for name, part, note in (("dev", dev, "Tune on this one only."), ("test", test, "Never tune on this one.")):
        text = header.format(name, SEED, note) + yaml.safe_dump(part, sort_keys=False, allow_unicode=True, width=120)
        (DATA / f"{name}.yaml").write_text(text, encoding="utf-8")
    print(f"dev {len(dev)}, test {len(test)}")


if __name__ == "__main__":
    main()
