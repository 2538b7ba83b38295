"""`journeybot crm ...` and `journeybot sandbox`: CRM health, a snapshot sync, and the local
HubSpot-compatible sandbox. Settings are read here, at the command boundary, only."""

from __future__ import annotations

import errno
import json
import signal
import socket
from typing import Annotated

import typer
from rich.console import Console

from cli.exit_codes import ExitCode

crm_app = typer.Typer(no_args_is_help=True, help="The HubSpot CRM gateway.")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@crm_app.command("check")
def check(as_json: JsonFlag = False) -> None:
    """Does the token work, which scopes are missing, and how big is the portal.

    Exits 1 when HubSpot cannot be reached (within seconds: no long retries here), the
    token is rejected or a scope is missing."""
    from rich.table import Table

    from config import load_settings
    from skills.crm import CrmAuthError, CrmGateway

    settings = load_settings()
    try:
        gateway = CrmGateway(settings, patient=False)
    except CrmAuthError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(ExitCode.USAGE) from None
    with err.status(f"Checking {settings.hubspot_base_url} ..."):
        report = gateway.check()
    if as_json:
        out.print_json(json.dumps({"reachable": report.reachable, "token_ok": report.token_ok,
                                   "missing_scopes": report.missing_scopes, "counts": report.counts,
                                   "problems": report.problems, "requests": gateway.stats.requests}))
    elif not report.reachable:
        err.print(report.problems[0], highlight=False, markup=False)
    else:
        table = Table(title=f"HubSpot at {settings.hubspot_base_url}", show_header=False)
        table.add_row("token", "[green]works[/green]" if report.token_ok else "[red]rejected[/red]")
        scopes = ("unknown (the token was rejected)" if report.missing_scopes is None
                  else ", ".join(report.missing_scopes) or "none")
        table.add_row("missing scopes", scopes)
        for kind, count in report.counts.items():
            table.add_row(kind, f"{count:,}")
        out.print(table)
        for problem in report.problems:
            err.print(f"[yellow]- {problem}[/yellow]", highlight=False)
    if not report.reachable or not report.token_ok or report.missing_scopes:
        raise typer.Exit(ExitCode.FAILURE)


@crm_app.command("sync")
def sync(
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Fetch everything; leave the snapshot alone.")] = False,
) -> None:
    """Refresh the local snapshot of deals, companies, contacts and engagements (only changes after the first run)."""
    from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

    from cli.preflight import check_state
    from config import load_settings
    from skills.crm import CrmError, CrmGateway
    from storage.engine import make_engine
    from storage.migrate import upgrade_database

    settings = load_settings()
    engine = None
    if not no_cache:
        check_state(settings)
        engine = make_engine(settings.database_url)
        upgrade_database(engine)
    try:
        gateway = CrmGateway(settings, engine=engine, patient=False)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,} objects"),
                      TimeElapsedColumn(), console=err) as progress:
            tasks: dict[str, TaskID] = {}

            def step(kind: str, done: int) -> None:
                if kind not in tasks:
                    tasks[kind] = progress.add_task(kind, total=None)
                progress.update(tasks[kind], completed=done)

            sizes = {"deals": len(gateway.deals(progress=step)),
                     "companies": len(gateway.companies(progress=step)),
                     "contacts": len(gateway.contacts(progress=step)), **gateway.refresh_engagements(step)}
    except CrmError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(ExitCode.FAILURE) from None
    stats = gateway.stats
    out.print(", ".join(f"{k}: {v:,}" for k, v in sizes.items())
              + f"  ({stats.requests} requests, {stats.retries} retries)")


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # like the server: TIME_WAIT is no conflict
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def sandbox_command(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 = any free port).")] = 8089,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic portal.")] = 7,
    size: Annotated[int, typer.Option(help="Deals to generate (others scale with it); 0 = the default portal.")] = 0,
    token: Annotated[str, typer.Option(help="The access token the sandbox accepts.")] = "sandbox-token",
    fault_rate: Annotated[float, typer.Option(help="Share of requests failing with 429/5xx (0-1).")] = 0.0,
    latency_ms: Annotated[int, typer.Option(help="Added latency per request, ms.")] = 0,
    rate_limit: Annotated[str, typer.Option(help="Rolling limit LIMIT/SECONDS, or 'none'.")] = "100/10",
    webhook_url: Annotated[str, typer.Option(help="Send signed deal-stage webhooks here (e.g. the bot's "
                                             "/hubspot/webhooks URL); empty = none.")] = "",
    webhook_app_id: Annotated[int, typer.Option(help="The app id the webhooks carry.")] = 77_777,
    webhook_client_secret: Annotated[str, typer.Option(
        help="The client secret that signs the webhooks (the bot's JOURNEYBOT_HUBSPOT_CLIENT_SECRET).")] = "",
) -> None:
    """Serve a synthetic HubSpot portal over HubSpot's API until Ctrl-C (for demos and tests).

    Admin endpoints (same bearer token): POST /_sandbox/deals/{id}/stage {"stage": ...} moves a
    deal; POST /_sandbox/deals/advance {"count": n} moves n random open deals one stage on."""
    from config import ConfigError, load_settings
    from sandbox.faults import FaultPlan
    from sandbox.generator import generate_portal
    from sandbox.model import PortalSize
    from sandbox.server import SandboxServer
    from sandbox.webhooks import WebhookTarget

    load_settings()  # the command boundary; the sandbox itself needs none of them
    if webhook_url and not webhook_client_secret:
        raise ConfigError("--webhook-url needs --webhook-client-secret (the secret the bot verifies with).")
    target = WebhookTarget(webhook_url, webhook_app_id, webhook_client_secret) if webhook_url else None
    in_use = ConfigError(f"--port {port}: 127.0.0.1:{port} is already in use; stop what listens there "
                         "or pass another --port (0 = any free port).")
    if port and not _port_free(port):  # before spending seconds on the portal
        raise in_use
    limit = None if rate_limit == "none" else (int(rate_limit.split("/")[0]), float(rate_limit.split("/")[1]))
    with err.status("Generating the portal ..."):
        portal = generate_portal(seed, PortalSize.for_deals(size) if size else PortalSize())
    try:
        server = SandboxServer(portal, token=token, rate_limit=limit, port=port,
                               faults=FaultPlan(rate=fault_rate, latency_s=latency_ms / 1000), webhooks=target)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise in_use from exc
    counts = {k: len(v) for k, v in portal.objects.items()}
    err.print(f"HubSpot sandbox at [bold]{server.base_url}[/bold] "
              f"({', '.join(f'{k} {v:,}' for k, v in counts.items())}).")
    err.print(f"Point journeybot at it: JOURNEYBOT_HUBSPOT_BASE_URL={server.base_url} "
              "JOURNEYBOT_HUBSPOT_ACCESS_TOKEN=<the --token value>. Ctrl-C stops it.")
    def interrupt(*_args: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)  # also when started with SIGINT ignored (e.g. `cmd &`)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        err.print(f"stopped after {server.total_requests:,} requests")
