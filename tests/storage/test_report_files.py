"""Old local copies of report files are deleted, recent ones and folders are kept."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from storage.report_files import prune_report_files

NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


def _written(path: Path, days_ago: float) -> Path:
    path.write_bytes(b"x")
    stamp = (NOW - dt.timedelta(days=days_ago)).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def test_only_files_older_than_the_cutoff_go(tmp_path: Path) -> None:
    old = _written(tmp_path / "velocity-old.png", 40)
    recent = _written(tmp_path / "gaps-recent.csv", 3)
    (tmp_path / "keep-me").mkdir()
    assert prune_report_files(tmp_path, NOW - dt.timedelta(days=30)) == 1
    assert not old.exists() and recent.exists() and (tmp_path / "keep-me").is_dir()
    assert prune_report_files(tmp_path, NOW - dt.timedelta(days=30)) == 0


def test_a_missing_folder_is_nothing_to_prune(tmp_path: Path) -> None:
    assert prune_report_files(tmp_path / "never-written", NOW) == 0
