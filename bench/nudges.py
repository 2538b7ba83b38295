"""Benchmark: what one nudge detection run costs in HubSpot requests, after the baseline,
when k of 50,000 deals moved stage. The cost must follow k (the deals that changed), not
the pipeline: detection reads only what the incremental sync found modified.

    PYTHONPATH=. python bench/nudges.py [--deals 50000] [--ks 10 100 1000] [--json]

The sandbox runs in this process (no rate limit, so time is not the limit's); requests are
counted by the gateway and by the sandbox. Deals move as a HubSpot user would move them
(dealstage, its hs_v2_date_entered_<stage>, hs_lastmodifieddate). 10% of deals carry no
v2 stage dates, as on Starter portals: their stage history is batch-read, 50 per call.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TOKEN = "bench-token"


def next_stage(portal: Any, deal: Any) -> str | None:
    """The deal's next open stage in its pipeline, or None at the last open one."""
    pipeline = next(p for p in portal.pipelines if p.id == deal.properties["pipeline"])
    stages = [s.id for s in pipeline.open_stages]
    here = deal.properties["dealstage"]
    return stages[stages.index(here) + 1] if here in stages and stages.index(here) + 1 < len(stages) else None


def move(server: Any, k: int, moved: set[int]) -> int:
    """Move k open deals (not moved before) one stage on; returns how many moved."""
    by_target: dict[str, list[int]] = collections.defaultdict(list)
    for deal in server.portal.objects["deals"].values():
        if sum(len(v) for v in by_target.values()) >= k:
            break
        target = None if deal.id in moved or deal.properties.get("hs_is_closed") == "true" else next_stage(server.portal, deal)
        if target:
            by_target[target].append(deal.id)
    for target, ids in by_target.items():
        server.update_objects("deals", ids, {"dealstage": target})
        moved.update(ids)
    return sum(len(v) for v in by_target.values())


def run(deals: int, ks: list[int]) -> dict[str, Any]:
    from bench.common import sample_map, scratch_settings
    from sandbox.generator import generate_portal
    from sandbox.model import PortalSize
    from sandbox.server import SandboxServer
    from skills.crm import CrmGateway
    from skills.stage_changes import detect_stage_changes
    from storage.engine import make_engine
    from storage.migrate import upgrade_database
    from storage.timestamps import utc_now

    started = time.perf_counter()
    portal = generate_portal(7, PortalSize.for_deals(deals))
    generated_s = time.perf_counter() - started
    journey_map = sample_map()
    with SandboxServer(portal, token=TOKEN, rate_limit=None, search_rate_limit=None) as server:
        settings = scratch_settings(hubspot_access_token=TOKEN, hubspot_base_url=server.base_url,
                                    hubspot_rate_limit=10_000, hubspot_rate_window_s=1.0)
        engine = make_engine(settings.database_url)
        upgrade_database(engine)

        def detect() -> dict[str, Any]:
            server.reset_counters()
            gateway = CrmGateway(settings, engine=engine)  # a new one per scan, as the clock builds
            began = time.perf_counter()
            found = detect_stage_changes(engine, gateway, journey_map, utc_now(),
                                         overlap_s=settings.hubspot_sync_overlap_s)
            return {"seconds": round(time.perf_counter() - began, 2), "requests": gateway.stats.requests,
                    "sandbox_requests": server.total_requests, "by_kind": dict(server.counts),
                    "examined": found.examined, "changed": found.changed, "queued": len(found.queued),
                    "baseline": found.baseline}

        baseline = detect()
        idle = detect()  # nothing moved
        rows = []
        moved: set[int] = set()
        for k in ks:
            actually = move(server, k, moved)
            rows.append({"k": k, "moved": actually, **detect()})
    return {"deals": deals, "generate_s": round(generated_s, 1), "baseline": baseline, "idle": idle, "runs": rows,
            "command": f"PYTHONPATH=. python bench/nudges.py --deals {deals} --ks {' '.join(map(str, ks))}"}


def table(result: dict[str, Any]) -> str:
    lines = [f"{result['deals']:,} deals; baseline: {result['baseline']['requests']} requests, "
             f"{result['baseline']['seconds']} s (recorded, nobody nudged)",
             "| deals moved (k) | HubSpot requests | of which search | batch reads | deals read | changed | time |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in [{"k": 0, **result["idle"]}, *result["runs"]]:
        kinds = row["by_kind"]
        search = sum(v for key, v in kinds.items() if key.startswith("search"))
        batch = sum(v for key, v in kinds.items() if key.startswith("batch_read"))
        lines.append(f"| {row['k']:,} | {row['requests']} | {search} | {batch} | {row['examined']:,} | "
                     f"{row['changed']:,} | {row['seconds']} s |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--deals", type=int, default=50_000)
    parser.add_argument("--ks", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.deals, args.ks)
    print(json.dumps(result, indent=2) if args.json else table(result))


if __name__ == "__main__":
    main()
