"""`python -m sandbox`: run a sandbox portal in the foreground (benchmarks spawn it so the
server's memory and CPU stay out of the measured process)."""

from __future__ import annotations

import argparse
import signal
import sys

from sandbox.faults import FaultPlan
from sandbox.generator import generate_portal
from sandbox.model import PortalSize
from sandbox.server import SandboxServer
from sandbox.webhooks import WebhookTarget


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--deals", type=int, default=0, help="Scale the portal around this many deals.")
    parser.add_argument("--token", default="sandbox-token")
    parser.add_argument("--rate", default="100/10", help="LIMIT/SECONDS, or 'none'.")
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--coverage", type=float, default=1.0, help="Share of deals with hs_v2_* stage dates.")
    parser.add_argument("--webhook-url", default="", help="Send signed deal-stage webhooks to this URL.")
    parser.add_argument("--webhook-app-id", type=int, default=77_777)
    parser.add_argument("--webhook-client-secret", default="", help="Signs the webhooks (HubSpot's v3 scheme).")
    args = parser.parse_args(argv)
    if args.webhook_url and not args.webhook_client_secret:
        parser.error("--webhook-url needs --webhook-client-secret")
    target = WebhookTarget(args.webhook_url, args.webhook_app_id, args.webhook_client_secret) if args.webhook_url else None
    size = PortalSize.for_deals(args.deals) if args.deals else PortalSize()
    portal = generate_portal(args.seed, size, stage_props_coverage=args.coverage)
    limit = None if args.rate == "none" else (int(args.rate.split("/")[0]), float(args.rate.split("/")[1]))
    server = SandboxServer(portal, token=args.token, rate_limit=limit, port=args.port,
                           faults=FaultPlan(rate=args.fault_rate), webhooks=target)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"READY {server.base_url}", flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
