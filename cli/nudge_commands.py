"""`journeybot nudges scan [--dry-run] [--json]`: one deal-nudge scan by hand, as the clock
runs it every JOURNEYBOT_NUDGE_INTERVAL_MIN minutes (detect stage changes, queue reminders,
DM the owners). `--dry-run` writes and posts nothing and shows the nudges that would go
out (no Slack token needed). Settings are read here, at the command boundary, only.

`journeybot nudges on|off|status|quiet 20-7|cap 3 --user U123`: a rep's own nudge settings
from the shell (support, scripts), through the registry's `nudges` skill; the Slack user
it acts for is the command's own option, as in Slack it is whoever typed the command."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from cli.exit_codes import ExitCode
from cli.setup_commands import err_line
from cli.skill_commands import JsonOption, run_skill

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
        from bot.nudge_gate import preference_gate

        report = run_nudge_scan(runtime, gate=preference_gate(runtime))
    if as_json:
        out.print_json(json.dumps(report.to_dict(), default=str))
    else:
        out.print(describe(report), highlight=False, markup=False)
    if report.crm_problem:
        if not as_json:
            err_line(f"HubSpot did not answer: {report.crm_problem}")
        raise typer.Exit(ExitCode.FAILURE)


UserOption = Annotated[str, typer.Option("--user", help="The Slack user id (U…) whose settings these are.")]


def _settings(text: str, user: str, as_json: bool) -> None:
    run_skill("nudges", text, as_json=as_json, user=user or None)


@nudges_app.command("status")
def status(user: UserOption = "", as_json: JsonOption = False) -> None:
    """A rep's nudge settings in one line. Example: journeybot nudges status --user U0123ADA"""
    _settings("status", user, as_json)


@nudges_app.command("on")
def turn_on(user: UserOption = "", as_json: JsonOption = False) -> None:
    """Nudges on for this rep."""
    _settings("on", user, as_json)


@nudges_app.command("off")
def turn_off(user: UserOption = "", as_json: JsonOption = False) -> None:
    """No nudges for this rep."""
    _settings("off", user, as_json)


@nudges_app.command("quiet")
def quiet(
    hours: Annotated[str, typer.Argument(help="FROM-TO on the rep's clock, e.g. 20-7, 19:30-08:00, 8pm-7am; or off.")],
    user: UserOption = "", as_json: JsonOption = False,
) -> None:
    """Quiet hours in the rep's Slack time zone (a nudge due then waits until they end)."""
    _settings(f"quiet {hours}", user, as_json)


@nudges_app.command("cap")
def cap(
    limit: Annotated[str, typer.Argument(help="Nudges a day at most (up to JOURNEYBOT_NUDGE_DAILY_CAP), or default.")],
    user: UserOption = "", as_json: JsonOption = False,
) -> None:
    """The rep's own daily cap, lower than the workspace's or `default`."""
    _settings(f"cap {limit}", user, as_json)


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
