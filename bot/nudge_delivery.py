"""Deal nudges out: detect stage changes (skills.stage_changes), queue reminders, then DM
each queued nudge to its deal's owner, exactly once.

The owner is found as HubSpot owner -> email -> Slack user (`users.lookupByEmail`, via
SlackOwnerDirectory); the email never leaves that lookup. Each DM is claimed in the ledger
before posting and marked after; it carries its ledger key as message metadata, so a
claim abandoned by a crashed process is looked for in the DM before it is posted again.
A `NudgeGate` (the rep's settings) is asked before each DM: send, defer to a time (the
nudge is kept), or skip. Owners without a Slack user are recorded as undeliverable.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.nudge import render_nudge
from bot.nudge_gate import NudgeGate, OpenGate
from bot.owners import SlackOwnerDirectory
from bot.posting import find_tagged, post
from config import Settings
from skills.context import SkillContext
from skills.crm import CrmGateway
from skills.crm.errors import CrmError
from skills.crm.records import Deal
from skills.nudge import Nudge, load_nudge
from skills.stage_changes import Detection, detect_stage_changes, queue_due_reminders
from storage.deal_stage_watch import fetch_watched_deals
from storage.engine import session_scope
from storage.nudge_ledger import (
    NudgeEntry,
    claim_nudge,
    count_sent_since,
    finish_nudge,
    mark_nudge_posting,
    nudges_to_send,
)
from storage.timestamps import utc_now

if TYPE_CHECKING:
    from knowledge.models import JourneyMap
    from knowledge.service import KnowledgeService

log = logging.getLogger(__name__)

EVENT_TYPE = "journeybot_nudge"
MAX_ATTEMPTS = 6
RETRY_S = 300.0
# Slack errors after which the DM certainly was not posted.
NOT_POSTED = frozenset({"channel_not_found", "user_not_found", "cannot_dm_bot", "is_archived", "invalid_auth",
                        "account_inactive", "token_revoked", "missing_scope", "ratelimited", "restricted_action",
                        "user_disabled"})


class NudgeDeps(Protocol):
    """What a scan needs; `bot.runtime.BotRuntime` fits."""

    settings: Settings
    knowledge: KnowledgeService
    client: WebClient


@dataclass
class NudgeOutcome:
    key: str
    deal_id: str
    kind: str
    status: str  # posted | recovered | deferred | skipped | undeliverable | failed | retrying | would_send
    slack_user_id: str | None = None
    detail: str = ""


@dataclass
class NudgeScanReport:
    """What one scan did. `hubspot_requests`: the CRM calls it made (detection and content)."""

    baseline: bool = False
    examined: int = 0
    changed: int = 0
    queued: list[str] = field(default_factory=list)
    outcomes: list[NudgeOutcome] = field(default_factory=list)
    crm_problem: str | None = None
    hubspot_requests: int = 0
    dry_run: bool = False
    nudges: list[Nudge] = field(default_factory=list)  # dry run: what would be sent

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "nudges": [n.to_dict() for n in self.nudges]}


def nudge_metadata(key: str) -> dict[str, Any]:
    return {"event_type": EVENT_TYPE, "event_payload": {"nudge_key": key}}


def run_nudge_scan(deps: NudgeDeps, *, deal_ids: Sequence[str] | None = None, gate: NudgeGate | None = None,
                   now: Callable[[], dt.datetime] | None = None, dry_run: bool = False) -> NudgeScanReport:
    """One scan: detect (only `deal_ids`, as a webhook names them; None: the incremental
    scan), queue due reminders, deliver what is owed. `dry_run` writes and posts nothing
    and lists the nudges that would go out. CRM failures are reported, never raised:
    nothing advances, so the next scan tries again."""
    clock = now or utc_now
    ctx = SkillContext(deps.settings, deps.knowledge, clock=clock, source="nudges")
    report = NudgeScanReport(dry_run=dry_run)
    gateway: CrmGateway | None = None
    before = 0
    try:
        gateway = ctx.gateway  # no token: a CrmAuthError naming the setting, reported like any CRM failure
        before = gateway.stats.requests
        journey_map = ctx.journey_map
        detection = detect_stage_changes(ctx.engine, gateway, journey_map, clock(), deal_ids=deal_ids,
                                         overlap_s=deps.settings.hubspot_sync_overlap_s, record=not dry_run)
        _count(report, detection)
        reminders = queue_due_reminders(ctx.engine, clock(), record=not dry_run)
        report.queued += [q.key for q in reminders]
        if dry_run:
            deals = {d.id: d for d in gateway.deals_by_id([q.deal_id for q in detection.queued + reminders])}
            report.nudges = [load_nudge(gateway, journey_map, deals[q.deal_id], kind=q.kind, key=q.key, now=clock())
                             for q in detection.queued + reminders if q.deal_id in deals]
        else:
            deliver_nudges(deps, gateway, journey_map, gate or OpenGate(), clock, report)
    except CrmError as exc:
        report.crm_problem = str(exc)
        log.warning("nudge scan: CRM unavailable (%s); the next scan tries again", exc)
    report.hubspot_requests = gateway.stats.requests - before if gateway is not None else 0
    return report


def _count(report: NudgeScanReport, detection: Detection) -> None:
    report.baseline, report.examined, report.changed = detection.baseline, detection.examined, detection.changed
    report.queued += [q.key for q in detection.queued]


def deliver_nudges(deps: NudgeDeps, gateway: CrmGateway, journey_map: JourneyMap, gate: NudgeGate,
                   clock: Callable[[], dt.datetime], report: NudgeScanReport) -> None:
    """DM every nudge owed now (pending, deferred whose time came, abandoned claims)."""
    engine = deps.knowledge.engine
    lease = float(deps.settings.scheduler_lease_s)
    with session_scope(engine) as session:
        owed = nudges_to_send(session, now=clock(), lease_s=lease)
    if not owed:
        return
    deals = {d.id: d for d in gateway.deals_by_id(list(dict.fromkeys(e.deal_id for e in owed)))}
    emails = {o.id: o.email for o in gateway.owners()}
    directory = SlackOwnerDirectory(deps.client)
    for entry in owed:
        outcome = _deliver(deps, gateway, journey_map, gate, clock, entry, deals.get(entry.deal_id), emails, directory)
        if outcome is not None:
            report.outcomes.append(outcome)
            log.info("nudge %s: %s %s", outcome.key, outcome.status, outcome.detail)


def _deliver(deps: NudgeDeps, gateway: CrmGateway, journey_map: JourneyMap, gate: NudgeGate,
             clock: Callable[[], dt.datetime], entry: NudgeEntry, deal: Deal | None,
             emails: dict[str, str | None], directory: SlackOwnerDirectory) -> NudgeOutcome | None:
    engine = deps.knowledge.engine
    with session_scope(engine) as session:
        held = claim_nudge(session, entry, now=clock())
    if held is None:
        return None  # another process holds it
    key = held.nudge_key

    def done(status: str, detail: str = "", **extra: Any) -> NudgeOutcome:
        final = {"recovered": "posted", "retrying": "deferred"}.get(status, status)
        with session_scope(engine) as session:
            finish_nudge(session, held, final, now=clock(), detail=detail, **extra)  # type: ignore[arg-type]
        return NudgeOutcome(key, held.deal_id, held.kind, status, extra.get("slack_user_id") or held.slack_user_id,
                            detail)

    if held.state == "posting" and held.channel_id:  # a process died around chat.postMessage: did it go out?
        try:
            found = find_nudge_posted(deps.client, held.channel_id, key, held.created_at)
        except SlackApiError as exc:
            return NudgeOutcome(key, held.deal_id, held.kind, "failed", detail=f"history: {exc.response.get('error')}")
        if found is not None:
            return done("recovered", "found in the DM after a restart", message_ts=found)
    if deal is None:
        return done("skipped", "the deal is gone from the CRM")
    if not _still_current(engine, held, deal):
        return done("skipped", "the deal moved on before the nudge went out")
    if deal.is_closed:
        return done("skipped", "the deal is closed")
    user = directory.user_id(emails.get(deal.owner_id or "")) if deal.owner_id else None
    if user is None:
        why = "the deal has no owner" if not deal.owner_id else "its owner has no Slack user with the CRM email"
        log.warning("nudge %s undeliverable: %s", key, why)
        return done("undeliverable", why)
    now = clock()
    with session_scope(engine) as session:
        sent_today = count_sent_since(session, user, now - dt.timedelta(hours=24))
    verdict = gate.verdict(user, now, sent_today)
    if not verdict.send:
        if verdict.retry_at is not None:
            return done("deferred", verdict.reason or "the rep's settings", retry_at=verdict.retry_at,
                        slack_user_id=user)
        return done("skipped", verdict.reason or "the rep's settings", slack_user_id=user)
    nudge = load_nudge(gateway, journey_map, deal, kind=held.kind, key=key, now=now)
    try:
        channel = str(deps.client.conversations_open(users=user)["channel"]["id"])
    except SlackApiError as exc:
        return _refused(done, held, str(exc.response.get("error") or exc), user)
    with session_scope(engine) as session:
        if not mark_nudge_posting(session, held, channel_id=channel, slack_user_id=user, now=clock()):
            return None  # taken over by another process
    try:
        ts = post(deps.client, render_nudge(nudge), channel=channel, metadata=nudge_metadata(key))
    except SlackApiError as exc:
        error = str(exc.response.get("error") or exc)
        if error in NOT_POSTED:
            return _refused(done, held, error, user)
        # Unknown whether Slack kept it: left "posting"; after the lease the DM is looked at first.
        log.warning("nudge %s: posting failed (%s); checked in the DM before any retry", key, error)
        return NudgeOutcome(key, held.deal_id, held.kind, "failed", user, error)
    return done("posted", message_ts=ts, slack_user_id=user)


def _refused(done: Callable[..., NudgeOutcome], held: NudgeEntry, error: str, user: str) -> NudgeOutcome:
    """Slack certainly did not post: retried later (bounded), then failed for good."""
    if held.attempts >= MAX_ATTEMPTS:
        return done("failed", f"Slack: {error}", slack_user_id=user)
    return done("retrying", f"Slack: {error}", retry_at=utc_now() + dt.timedelta(seconds=RETRY_S * held.attempts),
                slack_user_id=user)


def _still_current(engine: Any, entry: NudgeEntry, deal: Deal) -> bool:
    """The nudge is about the stage entry the deal is in now (per the CRM and detection)."""
    if deal.stage_id != entry.stage_id:
        return False
    with session_scope(engine) as session:
        watched = fetch_watched_deals(session, [entry.deal_id]).get(entry.deal_id)
    return watched is None or (watched.stage_id, watched.entered_at) == (entry.stage_id, entry.entered_at)


def find_nudge_posted(client: WebClient, channel: str, key: str, since: dt.datetime) -> str | None:
    """The ts of a DM in `channel` carrying nudge key `key` (as message metadata)."""
    return find_tagged(client, channel, event_type=EVENT_TYPE, field="nudge_key", key=key, since=since)
