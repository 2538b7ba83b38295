"""Splitting an evaluation set once into dev and test, stratified by one field, with a
fixed seed; a second split would leak test items into tuning, so it refuses to run again."""

from __future__ import annotations

import random
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml


def split_once(data: Path, source: str, key: str, seed: int) -> None:
    if (data / "dev.yaml").exists() or (data / "test.yaml").exists():
        sys.exit(f"{source} is split already: a second split would leak test items into tuning")
    items = yaml.safe_load((data / source).read_text(encoding="utf-8"))
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        groups[str(item[key])].append(item)
    rng = random.Random(seed)
    dev: list[dict[str, Any]] = []
    test: list[dict[str, Any]] = []
    for value in sorted(groups):
        group = groups[value]
        rng.shuffle(group)
        half = len(group) // 2
        dev += group[:half]
        test += group[half:]
    header = "# {} split of {} (seed {}, stratified by {}). {}\n"
    for name, part, note in (("dev", dev, "Tune on this one only."), ("test", test, "Never tune on this one.")):
        text = header.format(name, source, seed, key, note) + yaml.safe_dump(part, sort_keys=False, allow_unicode=True,
                                                                              width=120)
        (data / f"{name}.yaml").write_text(text, encoding="utf-8")
    print(f"dev {len(dev)}, test {len(test)}")
