"""Split the non-English questions once into dev and test (stratified by language, fixed
seed). Run once when the data was written; tune on dev only, assert test in CI.

    python -m bench.split_language   # refuses to overwrite an existing split
"""

from __future__ import annotations

from bench.common import ROOT
from bench.splitting import split_once

DATA = ROOT / "tests" / "data" / "language"

SEED = 20261126


def main() -> None:
    split_once(DATA, "non_english.yaml", "language", SEED)


if __name__ == "__main__":
    main()
