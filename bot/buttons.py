"""Buttons after the ack: feedback thumbs, share to channel, pick one of several
candidates, show more, churn acknowledge/snooze, "Sent it" on an asset. Replies go through the button's
response_url, so they reach the clicker wherever the message is."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject

from bot import ids
from bot.blocks import render_error, render_note
from bot.blocks.sent_it import mark_sent, render_sent
from bot.button_values import AlertRef, BadButtonValue, MorePage, RunRef, SentRef, split_stored
from bot.dispatch import render_kept, run_skill
from bot.jobs import Job
from bot.replies import deliver
from bot.runtime import BotRuntime
from skills.sent_it import record_sent
from storage.churn_ledger import record_churn_response
from storage.question_log import fetch_question, set_feedback

log = logging.getLogger(__name__)
SNOOZE_DAYS = 7

Handler = Callable[[BotRuntime, Job], None]


def press(runtime: BotRuntime, job: Job) -> None:
    handler = HANDLERS.get(job.action_id)
    if handler is None:
        raise ValueError(f"no handler for button {job.action_id!r}")
    try:
        handler(runtime, job)
    except BadButtonValue:
        deliver(runtime.client, render_error("That button no longer works here; run the command again."), job.to,
                ephemeral=True)


def _feedback(vote: int) -> Handler:
    def handle(runtime: BotRuntime, job: Job) -> None:
        with runtime.session() as session:
            entry = set_feedback(session, int(job.value), vote) if job.value.isdigit() else None
        note = "Thanks, noted." if entry else "That answer is no longer on record."
        deliver(runtime.client, render_note(note), job.to, ephemeral=True)

    return handle


def _share(runtime: BotRuntime, job: Job) -> None:
    """Post a private answer for the channel to see: the run the user saw, kept by its id;
    run again only when it expired (results are reproducible)."""
    shared = RunRef.decode(job.value)
    to = job.to
    kept = render_kept(runtime, shared.skill, shared.ref, channel=to.channel, public=True)
    if kept is not None:
        deliver(runtime.client, kept, to, ephemeral=False)
        return
    skill, ref = shared.skill, split_stored(shared.ref)[1]
    if skill == "ask":
        question = ref[2:] if ref.startswith("q:") else _logged_question(runtime, ref)
        if not question:
            deliver(runtime.client, render_error("That answer is no longer on record."), to, ephemeral=True)
            return
        outcome = run_skill(runtime, "ask", "", channel=to.channel, user=to.user, public=True, question=question)
    else:
        outcome = run_skill(runtime, skill, ref, channel=to.channel, user=to.user, public=True)
    deliver(runtime.client, outcome.message, to, ephemeral=False)


def _logged_question(runtime: BotRuntime, ref: str) -> str | None:
    if not ref.isdigit():
        return None
    with runtime.session() as session:
        entry = fetch_question(session, int(ref))
        return entry.question if entry else None


def _show_more(runtime: BotRuntime, job: Job) -> None:
    """The next page; its charts were sent with the first page, so none again."""
    page = MorePage.decode(job.value)
    kept = render_kept(runtime, page.skill, page.ref, channel=job.to.channel, offset=page.offset)
    if kept is None:
        kept = run_skill(runtime, page.skill, split_stored(page.ref)[1], channel=job.to.channel, user=job.to.user,
                         offset=page.offset).message
    deliver(runtime.client, kept, job.to, ephemeral=True, with_files=False)


def _pick(runtime: BotRuntime, job: Job) -> None:
    choice = RunRef.decode(job.value)
    outcome = run_skill(runtime, choice.skill, choice.ref, channel=job.to.channel, user=job.to.user)
    deliver(runtime.client, outcome.message, job.to, ephemeral=outcome.ephemeral)


def _churn_response(response: str) -> Handler:
    def handle(runtime: BotRuntime, job: Job) -> None:
        alert = AlertRef.decode(job.value)
        company_id, rule = alert.company_id, alert.rule
        user = job.to.user
        until = runtime.context(job.to.channel, user).now + dt.timedelta(days=SNOOZE_DAYS) if response == "snooze" else None
        with runtime.session() as session:
            record_churn_response(session, company_id, rule, response, user=user, until=until)  # type: ignore[arg-type]
        note = f"Snoozed for {SNOOZE_DAYS} days by <@{user}>." if until else f"Acknowledged by <@{user}>."
        _annotate_alert(runtime, job, note)

    return handle


def _annotate_alert(runtime: BotRuntime, job: Job, note: str) -> None:
    """The channel sees who did what: a line under the alert, buttons kept for the rest."""
    ts, blocks = job.message.get("ts"), job.message.get("blocks")
    if ts and isinstance(blocks, list):
        blocks = [*blocks, ContextBlock(elements=[MarkdownTextObject(text=note)]).to_dict()]
        runtime.client.chat_update(channel=job.to.channel, ts=ts, text=note, blocks=blocks)
    else:
        deliver(runtime.client, render_note(note), job.to, ephemeral=False)


def _sent_it(runtime: BotRuntime, job: Job) -> None:
    """Record the send (and its HubSpot note); the button becomes who sent it, and the
    clicker gets one line when there is more to say (already recorded, no note)."""
    sent = SentRef.decode(job.value)
    user = job.to.user
    entered = None if sent.entered_ms is None else dt.datetime.fromtimestamp(sent.entered_ms / 1000, dt.UTC)
    outcome = record_sent(runtime.context(job.to.channel, user), deal_id=sent.deal_id, crm_stage_id=sent.stage_id,
                          asset_id=sent.asset_id, user=user, sender_name=slack_name(runtime, user),
                          stage_entered_at=entered)
    ts, blocks = job.message.get("ts"), job.message.get("blocks")
    if ts and isinstance(blocks, list):
        try:
            runtime.client.chat_update(channel=job.to.channel, ts=ts, text=f"{outcome.asset_title}: sent",
                                       blocks=mark_sent(blocks, job.value, outcome.sent_by))
        except SlackApiError as exc:  # e.g. a message the bot may not edit: the line below still says it
            log.info("could not mark the asset as sent in the message: %s", exc.response.get("error"))
        else:
            if outcome.new and outcome.note_problem is None:
                return
    deliver(runtime.client, render_sent(outcome), job.to, ephemeral=True)


def slack_name(runtime: BotRuntime, user: str) -> str:
    """The name a HubSpot note shows for a Slack user (display name, else real name, else
    the user id); never the email."""
    try:
        profile = (runtime.client.users_info(user=user).get("user") or {}).get("profile") or {}
    except Exception:  # noqa: BLE001 - a name is a nicety: the note is written either way
        return user
    return str(profile.get("display_name") or profile.get("real_name") or user)


HANDLERS: dict[str, Handler] = {
    ids.FEEDBACK_UP: _feedback(1),
    ids.FEEDBACK_DOWN: _feedback(-1),
    ids.SHARE: _share,
    ids.SHOW_MORE: _show_more,
    ids.PICK_CHOICE: _pick,
    **{action_id: _pick for action_id in ids.OTHER_STAGE},
    ids.CHURN_ACK: _churn_response("ack"),
    ids.CHURN_SNOOZE: _churn_response("snooze"),
    ids.SENT_IT: _sent_it,
}


def action_ids() -> list[str]:
    return list(HANDLERS)


def job_message(body: dict[str, Any]) -> dict[str, Any]:
    """What a button handler may need of the message it sits on."""
    message = body.get("message") or {}
    return {"ts": message.get("ts"), "blocks": message.get("blocks")} if message else {}
