"""Benchmark: the gateway's full CRM fetch against the sandbox limiting at 100 requests / 10 s.

For each size it reports requests used vs the floor (ceil(N/100) per object list, plus
1,000-id association batches, pipelines and owners), wall time vs the time the rate
limit alone imposes, 429s, and peak RSS of the fetching process. A naive per-object
fetch (GET each object and its associations one by one) is sampled and extrapolated,
because at 100 requests / 10 s running it in full would take hours.

    PYTHONPATH=. python bench/crm_fetch.py --sizes 1000 10000 50000 [--naive-sample 300]

Each size runs in its own process (peak RSS is per process); the sandbox runs in a
separate process too, so its memory and CPU are not counted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TOKEN = "bench-token"


def start_sandbox(deals: int, rate: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", "--deals", str(deals), "--rate", rate,
         "--coverage", "1.0", "--token", TOKEN], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("READY "):
        proc.kill()
        raise RuntimeError(f"sandbox did not start: {line!r}")
    return proc, line.split(" ", 1)[1]


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rate_floor_s(requests: int, limit: int, window: float) -> float:
    """Request k (0-based) cannot start before floor(k / limit) windows have passed."""
    return max(0, (requests - 1) // limit) * window


def run_one(deals: int, naive_sample: int, limit: int, window: float) -> dict[str, Any]:
    from config import Settings
    from skills.crm import CrmGateway

    proc, url = start_sandbox(deals, f"{limit}/{window:g}")
    try:
        settings = Settings.from_mapping({"hubspot_access_token": TOKEN, "hubspot_base_url": url,
                                          "hubspot_rate_limit": limit, "hubspot_rate_window_s": window})
        gateway = CrmGateway(settings)
        started = time.perf_counter()
        pipelines = gateway.pipelines()
        owners = gateway.owners()
        deal_list = gateway.deals()
        companies = gateway.companies()
        contacts = gateway.contacts()
        company_ids = [c.id for c in companies]
        links = gateway.company_associations(company_ids)
        deal_people = gateway.deal_contacts([d.id for d in deal_list])
        wall = time.perf_counter() - started
        n_deals, n_comp, n_cont = len(deal_list), len(companies), len(contacts)
        floor = (1 + math.ceil(len(owners) / 100) + math.ceil(n_deals / 100) + math.ceil(n_comp / 100)
                 + math.ceil(n_cont / 100) + 2 * math.ceil(n_comp / 1000) + math.ceil(n_deals / 1000))
        used = gateway.stats.requests
        result: dict[str, Any] = {
            "deals": n_deals, "companies": n_comp, "contacts": n_cont, "owners": len(owners),
            "pipelines": len(pipelines), "associations": sum(len(v.contact_ids) + len(v.deal_ids)
                                                             for v in links.values())
            + sum(len(v) for v in deal_people.values()),
            "requests": used, "request_floor": floor, "request_ratio": round(used / floor, 3),
            "throttled_429": gateway.stats.throttled, "retries": gateway.stats.retries,
            "wall_s": round(wall, 1), "rate_floor_s": rate_floor_s(used, limit, window),
            "floor_of_request_floor_s": rate_floor_s(floor, limit, window),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "sandbox_peak_rss_mb": round(vm_hwm_mb(proc.pid), 1),
        }
        lower = result["floor_of_request_floor_s"]
        result["wall_ratio"] = round(wall / lower, 3) if lower else None  # None: below one window
        del deal_list, contacts
        if naive_sample:
            result.update(naive(gateway, companies, n_deals, n_comp, n_cont, len(owners), naive_sample,
                                limit, window))
        return result
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def naive(gateway: Any, companies: list[Any], n_deals: int, n_comp: int, n_cont: int, n_owners: int,
          sample: int, limit: int, window: float) -> dict[str, Any]:
    """One GET per object and per object's association list, after listing ids; sampled."""
    fetcher = gateway.fetcher
    time.sleep(window)  # start from an empty window so the sample's rate is the steady rate
    before = gateway.stats.requests
    started = time.perf_counter()
    ids = [c.id for c in companies]
    done = 0
    while done < sample:
        cid = ids[done // 3 % len(ids)]
        if done % 3 == 0:
            fetcher.get("companies", cid, gateway.company_properties())
        else:
            fetcher.associations("companies", "contacts" if done % 3 == 1 else "deals", [cid])
        done += 1
    elapsed = time.perf_counter() - started
    listing = math.ceil(n_deals / 100) + math.ceil(n_comp / 100) + math.ceil(n_cont / 100)
    per_object = n_deals + n_comp + n_cont + 2 * n_comp + n_deals  # GETs + association GETs
    total = 1 + math.ceil(n_owners / 100) + listing + per_object
    per_request = elapsed / max(1, gateway.stats.requests - before)
    return {"naive_requests": total, "naive_request_ratio": round(total / max(1, listing), 1),
            "naive_sampled_requests": gateway.stats.requests - before, "naive_sample_s": round(elapsed, 1),
            "naive_est_wall_s": round(max(per_request * total, rate_floor_s(total, limit, window)), 0)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--naive-sample", type=int, default=300)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.naive_sample, args.limit, args.window)), flush=True)
        return 0
    for size in args.sizes:
        cmd = [sys.executable, __file__, "--one", str(size), "--naive-sample", str(args.naive_sample),
               "--limit", str(args.limit), "--window", str(args.window)]
        line = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
