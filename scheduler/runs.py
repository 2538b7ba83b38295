"""One scheduled run, exactly once: claim it in the database, run the skill as of the fire
time, render it with the bot's renderer and post it in the channel.

Exactly once rests on three things: the (subscription, period) unique key (a posted run
is never claimed again), a lease on in-progress runs (a crashed worker's run is taken
over), and Slack message metadata carrying the run key (a run that crashed between
chat.postMessage and recording it is found in the channel's history, not posted again).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import render_note, render_result
from bot.blocks.churn import alert_pages
from bot.message import SlackMessage
from bot.owners import SlackOwnerDirectory
from bot.posting import find_tagged, post, upload
from config import Settings
from scheduler.periods import period_key
from skills import outcome as outcomes
from skills.churn import ChurnFinding, ChurnReport
from skills.churn_alerts import record_alerts_sent, select_new_alerts
from skills.context import SkillContext
from skills.crm.errors import CrmError
from skills.registry import Registry
from skills.schedules import skill_for
from skills.velocity_report import VelocityReport
from storage.engine import session_scope
from storage.report_files import prune_older_than_days
from storage.subscriptions import (
    ScheduledRun,
    claim_run,
    fetch_subscription,
    finish_run,
    mark_delay_notice,
    mark_posting,
)
from storage.timestamps import utc_now

if TYPE_CHECKING:
    from knowledge.service import KnowledgeService

log = logging.getLogger(__name__)

EVENT_TYPE = "journeybot_run"

Status = Literal["posted", "recovered", "delayed", "retrying", "failed", "skipped", "inactive"]


class RunDeps(Protocol):
    """What a run needs; `bot.runtime.BotRuntime` fits."""

    settings: Settings
    knowledge: KnowledgeService
    registry: Registry
    client: WebClient


@dataclass(frozen=True)
class RunOutcome:
    """What `execute` did. "skipped": posted already or another worker holds the run;
    "recovered": found already posted in Slack after a crash; "delayed": the CRM failed
    and the run will be retried; "retrying": not posted for another reason, retried after
    a pause (bounded); "failed": for good, with the reason."""

    status: Status
    subscription_id: int
    period: str = ""  # the run's period (of its fire time): the exactly-once key
    message_ts: str | None = None
    detail: str = ""
    covers: str = ""  # what the post reports on, when that is not the run's period ("week 2026-W47")

    def describe(self) -> str:
        """"run 2026-W48 (reports week 2026-W47)": a Monday digest is about the week before."""
        return f"run {self.period}" + (f" (reports {self.covers})" if self.covers else "")


def run_key(subscription_id: int, period: str) -> str:
    return f"{subscription_id}:{period}"


# Slack errors after which the message certainly was not posted: retry later (bounded),
# no need to look in the channel's history first.
NOT_POSTED = frozenset({"not_in_channel", "channel_not_found", "is_archived", "invalid_auth", "account_inactive",
                        "token_revoked", "missing_scope", "ratelimited", "restricted_action"})
MAX_ATTEMPTS = 6
RETRY_BASE_S = 60.0  # then 2, 4, 8, 16 minutes: about half an hour in all before a run fails for good


def retry_backoff_s(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th attempt of a run before the next one."""
    return RETRY_BASE_S * float(2 ** max(0, attempts - 1))


def run_metadata(subscription_id: int, period: str, part: int = 0) -> dict[str, Any]:
    """The run key (and, for a run posted as several messages, which part) on each post."""
    payload: dict[str, Any] = {"run_key": run_key(subscription_id, period)}
    if part:
        payload["part"] = part
    return {"event_type": EVENT_TYPE, "event_payload": payload}


def execute(
    deps: RunDeps,
    subscription_id: int,
    fire_time: dt.datetime,
    *,
    now: dt.datetime | None = None,
    lease_s: float | None = None,
) -> RunOutcome:
    """Run subscription `subscription_id` for the period of `fire_time`, at most one post
    per period however often, wherever and concurrently this is called. `now` (the wall
    clock, for leases) and `lease_s` default to the real clock and the settings."""
    fixed_clock = now is not None
    now = now or utc_now()
    lease = float(deps.settings.scheduler_lease_s if lease_s is None else lease_s)
    engine = deps.knowledge.engine
    with session_scope(engine) as session:
        subscription = fetch_subscription(session, subscription_id)
        if subscription is None or not subscription.active:
            return RunOutcome("inactive", subscription_id)
        channel, kind, filters = subscription.channel_id, subscription.kind, dict(subscription.filters)
        period = period_key(subscription.cron, subscription.timezone, fire_time)
        run = claim_run(session, subscription_id, period, fire_time=fire_time, now=now, lease_s=lease)
    if run is None:
        return RunOutcome("skipped", subscription_id, period)
    prune_older_than_days(deps.settings.reports_dir, deps.settings.reports_keep_days)

    if run.state == "posting":  # a worker crashed around chat.postMessage: did it go out?
        try:
            found = find_posted(deps.client, channel, run_key(subscription_id, period), fire_time)
        except SlackApiError as exc:  # unknown: never risk a second post; retried after the lease
            return RunOutcome("failed", subscription_id, period, detail=f"history: {exc.response.get('error')}")
        if found is not None:
            _finish(engine, run, "posted", "found in channel history after a restart", found)
            _complete_recovered(deps, kind, filters, channel, fire_time, found)
            return RunOutcome("recovered", subscription_id, period, found)

    skill = skill_for(kind)
    if skill is None:
        _finish(engine, run, "failed", f"unknown subscription kind {kind!r}")
        return RunOutcome("failed", subscription_id, period, detail=f"unknown kind {kind!r}")
    ctx = _context(deps, fire_time, channel)
    match outcomes.run_skill(deps.registry, ctx, skill, **filters):
        case outcomes.Done(result):
            pass
        case outcomes.CrmUnavailable(crm_problem, _):
            return _delay(deps, run, channel, kind, period, crm_problem)
        case outcomes.UserError(problem):  # retrying cannot help: the subscription needs fixing
            return _fail(engine, run, period, problem)
        case outcomes.Misconfigured(problem, error_id, _):  # retried (bounded): the setting may be fixed meanwhile
            log.error("%s for subscription %s cannot run (error id %s): %s", skill, subscription_id, error_id, problem)
            return _retry_later(engine, run, period, f"not set up: {problem} (error id {error_id})")
        case outcomes.Bug(error_id, exc_kind):  # recorded, retried (bounded), and the clock stays alive
            return _retry_later(engine, run, period, f"{exc_kind} (error id {error_id})")

    covers = f"week {result.window.label}" if isinstance(result, VelocityReport) else ""
    mentions = _owner_mentions(deps, ctx, result)
    pages: list[tuple[SlackMessage, list[ChurnFinding]]]
    if isinstance(result, ChurnReport):
        with session_scope(engine) as session:
            alerts = select_new_alerts(session, result.findings, fire_time,
                                       cooldown_days=deps.settings.churn_alert_cooldown_days, scope=channel)
        if not alerts:
            _finish(engine, run, "posted", "no new churn findings (cooldown, snooze or acknowledgement)")
            return RunOutcome("posted", subscription_id, period, detail="nothing new")
        pages = alert_pages(alerts, mentions=mentions, as_of=result.now)  # every alert reaches the channel, in as many messages as needed
    else:
        pages = [(render_result(skill, result, mentions=mentions), [])]
    with session_scope(engine) as session:
        still_ours = mark_posting(session, run, now=now if fixed_clock else utc_now())
    if not still_ours:
        return RunOutcome("skipped", subscription_id, period, detail="taken over by another worker")
    first_ts: str | None = None
    for part, (message, shown) in enumerate(pages):
        try:
            ts = post(deps.client, message, channel=channel, metadata=run_metadata(subscription_id, period, part))
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc)
            log.warning("posting subscription %s %s failed: %s", subscription_id, period, error)
            if error in NOT_POSTED and part == 0:
                return _retry_later(engine, run, period, f"Slack refused the post: {error}")
            # Otherwise left in "posting": whether Slack kept the message is unknown, so the
            # next attempt (after the lease) looks in the channel's history first.
            if run.attempts >= MAX_ATTEMPTS:
                return _fail(engine, run, period, f"Slack: {error}")
            return RunOutcome("failed", subscription_id, period, detail=error)
        first_ts = first_ts or ts
        if shown:  # the ledger holds only what was shown
            with session_scope(engine) as session:
                record_alerts_sent(session, shown, fire_time, scope=channel)
    _finish(engine, run, "posted", "", first_ts)
    return RunOutcome("posted", subscription_id, period, first_ts, covers=covers)


def _complete_recovered(deps: RunDeps, kind: str, filters: dict[str, Any], channel: str, fire_time: dt.datetime,
                        ts: str) -> None:
    """A worker that died right after posting may not have uploaded the post's chart: when
    its thread holds no file, the run's files are made again (as of the fire time) and
    shared there. Best effort: the post itself is out already."""
    try:
        thread = deps.client.conversations_replies(channel=channel, ts=ts, limit=100).get("messages") or []
        if any(m.get("files") for m in thread):
            return
        skill = skill_for(kind)
        if skill is None:
            return
        ctx = _context(deps, fire_time, channel)
        outcome = outcomes.run_skill(deps.registry, ctx, skill, **filters)
        if isinstance(outcome, outcomes.Done) and not isinstance(outcome.result, ChurnReport):
            upload(deps.client, render_result(skill, outcome.result).files, channel=channel, thread_ts=ts)
    except SlackApiError as exc:
        log.warning("could not complete the recovered post %s in %s: %s", ts, channel, exc.response.get("error"))


def _context(deps: RunDeps, fire_time: dt.datetime, channel: str) -> SkillContext:
    """A run as of its fire time; its files go where posts' files go, to be uploaded."""
    return SkillContext(deps.settings, deps.knowledge, clock=lambda: fire_time, channel=channel,
                        reports_dir=deps.settings.reports_dir)


def _owner_mentions(deps: RunDeps, ctx: SkillContext, result: object) -> dict[str, str]:
    """Owners as Slack mentions where their CRM email matches a Slack user (names otherwise)."""
    try:
        return SlackOwnerDirectory(deps.client).mentions_for(ctx.gateway, result)
    except CrmError as exc:
        log.info("owner mentions unavailable: %s", exc)
        return {}


def _finish(engine: Any, run: ScheduledRun, state: Literal["posted", "delayed", "retrying", "failed"], detail: str,
            message_ts: str | None = None) -> None:
    with session_scope(engine) as session:
        finish_run(session, run, state, detail=detail, message_ts=message_ts)


def _retry_later(engine: Any, run: ScheduledRun, period: str, reason: str) -> RunOutcome:
    """Not posted: try again after a growing pause, or give up after MAX_ATTEMPTS."""
    if run.attempts >= MAX_ATTEMPTS:
        return _fail(engine, run, period, reason)
    _finish(engine, run, "retrying", reason)
    return RunOutcome("retrying", run.subscription_id, period, detail=reason)


def _fail(engine: Any, run: ScheduledRun, period: str, reason: str) -> RunOutcome:
    """For good: recorded with its reason, logged loudly; App Home and `journeybot
    subscriptions` show it beside the subscription."""
    log.error("subscription %s, period %s, failed after %s attempt(s): %s", run.subscription_id, period, run.attempts, reason)
    _finish(engine, run, "failed", reason)
    return RunOutcome("failed", run.subscription_id, period, detail=reason)


def _delay(deps: RunDeps, run: ScheduledRun, channel: str, kind: str, period: str, reason: str) -> RunOutcome:
    """CRM down: no partial numbers; one short notice per run (claimed before it is sent,
    so a crash can lose it but never repeat it), and the run waits for a retry."""
    engine = deps.knowledge.engine
    with session_scope(engine) as session:
        first = mark_delay_notice(session, run)
    if first:  # in the reader's words: no "Error:", no internal detail (that is in the log and the run record)
        what = {"digest": "velocity digest", "churn": "churn alerts", "gaps": "gap audit"}.get(kind, kind)
        notice = render_note(f"The {what} for {period} is delayed: HubSpot is not answering. "
                             "It will follow here once it does.")
        try:
            post(deps.client, notice, channel=channel)
        except SlackApiError as exc:
            log.warning("delay notice for subscription %s failed: %s", run.subscription_id, exc)
    _finish(engine, run, "delayed", reason)
    return RunOutcome("delayed", run.subscription_id, period, detail=reason)


def find_posted(client: WebClient, channel: str, key: str, fire_time: dt.datetime) -> str | None:
    """The ts of a message in `channel` tagged with run key `key` since the fire time."""
    return find_tagged(client, channel, event_type=EVENT_TYPE, field="run_key", key=key, since=fire_time)
