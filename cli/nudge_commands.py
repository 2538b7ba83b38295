"""`journeybot nudges scan [--dry-run] [--json]`: one deal-nudge scan by hand, as the clock
runs it every JOURNEYBOT_NUDGE_INTERVAL_MIN minutes (detect stage changes, queue reminders,
DM the owners). `--dry-run` writes and posts nothing and shows the nudges that would go
out (no Slack token needed). Settings are read here, at the command boundary, only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from cli.exit_codes import ExitCode
from cli.setup_commands import err_line

if TYPE_CHECKING:
    from bot.nudge_delivery import NudgeScanReport
    from config import Settings
    from knowledge.service import KnowledgeService

nudges_app = typer.Typer(no_args_is_help=True, help="Deal nudges: DMs to deal owners when a deal moves.")
out = Console(soft_wrap=True)


@dataclass
class _DryRunDeps:
    """A dry run posts nothing, so it needs no Slack client."""

    settings: Settings
    knowledge: KnowledgeService
    client: Any = None


@nudges_app.command("scan")
def scan(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be sent; write and post nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (shape in docs/cli.md).")] = False,
) -> None:
    """Run one nudge scan now: detect deals that changed stage, queue reminders, DM owners."""
    from bot.nudge_delivery import run_nudge_scan
    from cli.preflight import check_state
    from cli.services import knowledge_service
    from config import load_settings

    settings = load_settings()
    check_state(settings)
    if settings.hubspot_access_token is None:
        err_line("JOURNEYBOT_HUBSPOT_ACCESS_TOKEN is not set: nudges watch HubSpot deals (see docs/hubspot.md)")
        raise typer.Exit(ExitCode.USAGE)
    if dry_run:
        report = run_nudge_scan(_DryRunDeps(settings, knowledge_service()), dry_run=True)
    else:
        from bot.app import SlackNotConfigured, build_runtime

        try:
            runtime = build_runtime(settings, knowledge=knowledge_service())
        except SlackNotConfigured as exc:
            err_line(f"{exc}; or try --dry-run")
            raise typer.Exit(ExitCode.USAGE) from None
        report = run_nudge_scan(runtime)
    if as_json:
        out.print_json(json.dumps(report.to_dict(), default=str))
    else:
        out.print(describe(report), highlight=False, markup=False)
    if report.crm_problem:
        if not as_json:
            err_line(f"HubSpot did not answer: {report.crm_problem}")
        raise typer.Exit(ExitCode.FAILURE)


def describe(report: NudgeScanReport) -> str:
    """A few plain lines: what was read, queued and sent."""
    if report.baseline:
        lines = [f"First scan: recorded the baseline of {report.examined:,} deals; nobody is nudged for it."]
    else:
        lines = [f"Read {report.examined:,} modified deals, {report.changed:,} changed stage; "
                 f"{len(report.queued):,} nudges queued ({report.hubspot_requests:,} HubSpot requests)."]
    if report.dry_run:
        lines += [f"would send: {n.headline}" for n in report.nudges] or ["nothing would be sent"]
        lines.append("(dry run: nothing recorded or posted)")
    for o in report.outcomes:
        lines.append(f"{o.status}: deal {o.deal_id} ({o.kind})" + (f" - {o.detail}" if o.detail else ""))
    return "\n".join(lines)
