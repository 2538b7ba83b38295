"""Split the understanding corpus once into dev and test (stratified by skill, fixed
seed). Run once when the corpus was written; tune on dev only, assert test in CI.

    python -m bench.split_corpus   # refuses to overwrite an existing split
"""

from __future__ import annotations

from bench.splitting import split_once
from bench.understanding import DATA

SEED = 20261125


def main() -> None:
    split_once(DATA, "corpus.yaml", "skill", SEED)


if __name__ == "__main__":
    main()
