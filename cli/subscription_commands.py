"""`journeybot subscribe|unsubscribe|subscriptions`: manage scheduled posts from the shell."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from cli.exit_codes import ExitCode

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from knowledge.models import JourneyMap

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _engine() -> Engine:
    from config import load_settings
    from storage.engine import make_engine
    from storage.migrate import upgrade_database

    engine = make_engine(load_settings().database_url)
    upgrade_database(engine)
    return engine


def _journey_map() -> JourneyMap:
    """The configured map, read and validated (no index needed to check a filter's stage)."""
    from config import load_settings
    from knowledge.validation import load_map

    return load_map(load_settings().journey_map_path).journey_map


def subscribe(
    channel: Annotated[str, typer.Argument(help="Slack channel id, e.g. C0123456.")],
    schedule: Annotated[list[str], typer.Argument(help='e.g. digest weekly mon 09:00 Europe/Berlin --pipeline default')],
) -> None:
    """Post a skill's result to a channel on a schedule.

    SCHEDULE is KIND \\[daily | weekly mon..sun | monthly 1-28] [HH:MM] [Area/City] [FILTERS]:

    - digest (or velocity): default every Monday at 09:00; filter --pipeline P

    - churn (or alerts): default every day at 08:00; filters --owner O, --min_severity low|medium|high

    - gaps (or audit): default on day 1 of every month at 09:00; filters --stale_months N, --stage S, --persona P

    The zone defaults to UTC. Subscribing a channel again to the same kind and filters
    changes that subscription's time (same id: a period it posted is not posted again).
    """
    from skills.registry import SkillInputError
    from skills.schedules import parse_subscription, subscribe
    from storage.engine import session_scope

    try:
        request = parse_subscription(" ".join(schedule))
        journey_map = _journey_map() if {"stage", "persona"} & set(request.filters) else None
        with session_scope(_engine()) as session:
            done = subscribe(session, channel, request, created_by="cli", journey_map=journey_map)
            said = f"{done.describe()} in {channel}"
    except SkillInputError as exc:
        err.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(ExitCode.USAGE) from None
    out.print(said, highlight=False)


def unsubscribe(subscription_id: Annotated[int, typer.Argument(help="The id from `journeybot subscriptions`.")]) -> None:
    """Stop a scheduled post."""
    from storage.engine import session_scope
    from storage.subscriptions import deactivate_subscription

    with session_scope(_engine()) as session:
        if not deactivate_subscription(session, subscription_id):
            err.print(f"[red]no active subscription {subscription_id}[/red]")
            raise typer.Exit(ExitCode.USAGE)
    out.print(f"subscription {subscription_id} removed")


def subscriptions(
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the active scheduled posts, with each one's last run and next fire time."""
    from scheduler.periods import next_fire_time
    from skills.schedules import summary
    from storage.engine import session_scope
    from storage.subscriptions import latest_runs, list_subscriptions
    from storage.timestamps import utc_now

    now = utc_now()
    with session_scope(_engine()) as session:
        subs = list_subscriptions(session, channel_id=channel)
        last = latest_runs(session, [s.id for s in subs if s.id is not None])
        rows: list[dict[str, Any]] = []
        for s in subs:
            run = last.get(s.id or 0)
            fire = next_fire_time(s.cron, s.timezone, now)
            rows.append({"id": s.id, "channel": s.channel_id, "kind": s.kind, "cron": s.cron, "timezone": s.timezone,
                         "filters": s.filters, "description": summary(s),
                         "next_fire": fire.isoformat() if fire else None,
                         "last_run": {"period": run.period, "state": run.state, "attempts": run.attempts,
                                      "detail": run.detail} if run else None})
    if as_json:
        out.print_json(json.dumps({"subscriptions": rows}))
        return
    for row in rows:
        last_run = row["last_run"]
        state = (f"; last run {last_run['period']}: {last_run['state']}" + (f" ({last_run['detail']})" if last_run["detail"] else "")
                 if last_run else "; not run yet")
        out.print(f"{row['id']}: {row['description']} in {row['channel']}; next {row['next_fire']}{state}",
                  highlight=False)
    if not rows:
        out.print("no subscriptions")
