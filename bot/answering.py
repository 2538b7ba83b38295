"""Run one queued job: the answer to a command, a message or a button, delivered where it
came from. The boundary where a crash becomes an error id the user can quote."""

from __future__ import annotations

import logging

from bot.blocks import render_error
from bot.buttons import press
from bot.commands import answer_command
from bot.conversation import answer_message
from bot.deal_changes import run_deal_changes
from bot.home import publish_home
from bot.jobs import Job
from bot.replies import deliver
from bot.runtime import BotRuntime
from skills.outcome import new_error_id

log = logging.getLogger(__name__)


def perform(runtime: BotRuntime, job: Job, *, retry: bool = False) -> None:
    """Never raises for a failure of the answer itself (the user is told, with an id);
    raises only when even that message cannot be delivered, so the queue keeps the job.
    A `deals` job has no one to tell: its failure raises, so the queue tries it again."""
    if job.kind == "deals":
        run_deal_changes(runtime, list(job.deal_ids))
        return
    try:
        with runtime.work:
            _perform(runtime, job, retry=retry)
    except Exception:
        error_id = new_error_id()
        log.exception("%s failed (error id %s)", job.describe(), error_id)
        if job.kind == "home":  # nobody asked anything: the next Home opening tries again
            return
        deliver(runtime.client, render_error("Something went wrong on our side.", error_id), job.to,
                ephemeral=job.kind != "message")


def _perform(runtime: BotRuntime, job: Job, *, retry: bool) -> None:
    if job.kind == "command":
        outcome = answer_command(runtime, job.text, job.to)
        deliver(runtime.client, outcome.message, job.to, ephemeral=outcome.ephemeral)
    elif job.kind == "message":
        answer_message(runtime, job.text, job.to, event_id=job.event_id, retry=retry, since=job.message.get("ts"),
                       team_id=job.message.get("team"))
    elif job.kind == "home":
        publish_home(runtime, job.to.user)
    else:
        press(runtime, job)
