"""`journeybot slack worker` (the Procfile's `worker` process, answering queued Slack work)
and `journeybot slack socket` (the whole bot in one process over Socket Mode)."""

from __future__ import annotations

import logging

import typer
from rich.console import Console

from cli.exit_codes import ExitCode
from config import load_settings

slack_app = typer.Typer(no_args_is_help=True, help="The Slack bot's processes (the web process is bot.wsgi).")
err = Console(stderr=True)
log = logging.getLogger(__name__)


@slack_app.command("worker")
def worker() -> None:
    """Answer acknowledged Slack requests from the PostgreSQL queue until stopped."""
    from bot.app import build_runtime
    from bot.work_queue import lower_priority, run_worker

    settings = load_settings()
    if not settings.durable_slack_queue:
        err.print("the Slack worker needs DATABASE_URL to be PostgreSQL (with the embedded SQLite defaults "
                  "the web process answers by itself)")
        raise typer.Exit(ExitCode.USAGE)
    lower_priority(settings.slack_worker_nice)  # before the warm-up, which is CPU-bound too
    runtime = build_runtime(settings)  # a missing token: one line from the CLI's ConfigError handling
    runtime.warm_up()
    err.print(f"slack worker: answering queued work, {settings.slack_worker_concurrency} at a time")
    run_worker(runtime)


@slack_app.command("socket")
def socket() -> None:
    """Run the bot over Socket Mode: one process, no public URL (needs JOURNEYBOT_SLACK_APP_TOKEN
    and JOURNEYBOT_SLACK_BOT_TOKEN; see docs/slack.md)."""
    from bot.socket_mode import serve

    serve(load_settings())
