"""The local copies of report files (charts and CSVs written for Slack uploads, under
<data dir>/reports): kept for a while, then deleted, so a clock that posts every week for
months does not fill its disk. Posts keep their uploaded copies in Slack; a run recovered
after a crash draws its chart again rather than reading an old file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path


def prune_report_files(folder: Path, older_than: dt.datetime) -> int:
    """Delete the files directly in `folder` last written before `older_than`; how many.
    A folder that does not exist, or a file another process deleted first, is no error."""
    cutoff = older_than.timestamp()
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return 0
    removed = 0
    for path in entries:
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def prune_older_than_days(folder: Path, keep_days: float) -> int:
    """`prune_report_files` for a keep-days setting, where 0 keeps everything. Counted on
    the wall clock, as the files are dated by it (a scheduled run's own clock may not be)."""
    if keep_days <= 0:
        return 0
    return prune_report_files(folder, dt.datetime.now(dt.UTC) - dt.timedelta(days=keep_days))
