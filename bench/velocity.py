"""Benchmark: `compute_velocity` over a generated portal (default 50,000 deals), after the fetch.

The generator's deals are turned into gateway records without HTTP, through the gateway's
own parsing (`CrmGateway._deal` on the rows the sandbox would serve, with `dealstage`
history for every deal), so the timing covers exactly the skill's computation.

    PYTHONPATH=. python bench/velocity.py [--deals 50000] [--repeat 5]

`prepare_s` (generating and parsing the records) is reported but not held to the target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import sample_map  # noqa: E402
from config import Settings  # noqa: E402
from sandbox.generator import generate_portal  # noqa: E402
from sandbox.model import Portal, PortalSize, ms_to_iso  # noqa: E402
from skills.crm import CrmGateway  # noqa: E402
from skills.crm import records as r  # noqa: E402
from skills.velocity import compute_velocity, week_window  # noqa: E402
from storage.crm_snapshot import SnapshotRow  # noqa: E402

NOW = dt.datetime(2025, 6, 4, 10, 0, tzinfo=dt.UTC)
TARGET_S = 2.0


def gateway_records(portal: Portal) -> tuple[list[r.Deal], list[r.Pipeline], list[r.Owner]]:
    pipelines = [r.Pipeline(p.id, p.label, p.display_order, tuple(
        r.PipelineStage(s.id, s.label, i, s.probability, s.is_closed, s.is_won) for i, s in enumerate(p.stages)))
        for p in portal.pipelines]
    # No request is made: the pipelines are preset and _deal only parses rows.
    gateway = CrmGateway(Settings.from_mapping({"hubspot_access_token": "offline",
                                                "hubspot_base_url": "http://127.0.0.1:9"}))
    gateway._pipelines = pipelines
    deals = [gateway._deal(SnapshotRow(
        str(o.id), {k: o.text(k) for k in o.properties},
        {"dealstage": [(stage, ms_to_iso(ts)) for stage, ts in o.history["dealstage"]]}, o.updated_ms))
        for o in portal.records("deals")]
    owners = [r.Owner(str(o.id), o.first_name, o.last_name, o.email) for o in portal.owners]
    return deals, pipelines, owners


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    portal = generate_portal(5, PortalSize.for_deals(args.deals), now=NOW)
    deals, pipelines, owners = gateway_records(portal)
    prepared = time.perf_counter() - started
    journey_map = sample_map()
    window = week_window(NOW, None)
    runs = []
    report = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        report = compute_velocity(deals, pipelines, owners, journey_map, window, NOW)
        runs.append(time.perf_counter() - t0)
    assert report is not None
    sales = report.pipelines[0]
    print(json.dumps({
        "deals": len(deals), "pipelines": len(pipelines), "window": report.window.label,
        "compute_s_median": round(statistics.median(runs), 3), "compute_s_max": round(max(runs), 3),
        "target_s": TARGET_S, "within_target": max(runs) <= TARGET_S, "repeat": args.repeat,
        "prepare_s": round(prepared, 1),
        "sales_stalled_now": len(sales.stalled), "sales_closed_in_week": sales.current.closed,
    }, indent=2))


if __name__ == "__main__":
    main()
