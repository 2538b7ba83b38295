"""`/journey subscribe|unsubscribe|subscriptions`: what this channel receives on a
schedule. CRM kinds need the same clearance as running the skill here."""

from __future__ import annotations

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from bot.blocks import render_error, render_refusal
from bot.message import SlackMessage
from bot.runtime import BotRuntime
from skills.registry import SkillInputError
from skills.schedules import parse_subscription, subscribe, summary
from storage.slack_state import fetch_channel_config
from storage.subscriptions import deactivate_subscription, list_subscriptions


def handle_subscription(runtime: BotRuntime, name: str, text: str, *, channel: str, user: str) -> SlackMessage:
    if name == "subscriptions":
        return _listing(runtime, channel)
    refusal = _may_manage(runtime, channel, user)
    if refusal:
        return render_error(refusal)
    if name == "unsubscribe":
        if not text.strip().isdigit():
            return render_error("Which one? `/journey unsubscribe <id>` (ids are in `/journey subscriptions`).")
        with runtime.session() as session:
            done = deactivate_subscription(session, int(text.strip()), channel_id=channel)
        sub_id = text.strip()
        return _text(f"Subscription {sub_id} removed." if done else f"No active subscription {sub_id} in this channel.")
    try:
        request = parse_subscription(text)
    except SkillInputError as exc:
        return render_error(str(exc))
    with runtime.session() as session:
        config = fetch_channel_config(session, channel)
    decision = runtime.access.check(runtime.registry.get(request.skill), config, user)
    if not decision.allowed:
        return render_refusal(request.skill, f"{decision.reason}. {runtime.settings.slack_access_help}")
    unpostable = runtime.channels.why_not_postable(channel)
    if unpostable:
        return render_error(unpostable)
    try:
        with runtime.session() as session:
            subscribed = subscribe(session, channel, request, created_by=user,
                                   journey_map=runtime.knowledge.live.current().journey_map)
            said = subscribed.describe()
    except SkillInputError as exc:
        return render_error(str(exc))
    return _text(f"{said}.")


def _may_manage(runtime: BotRuntime, channel: str, user: str) -> str | None:
    """Only the channel's creator or a journeybot admin changes what a channel receives."""
    if runtime.access.is_admin(user) or runtime.channels.creator(channel) == user:
        return None
    return ("Only this channel's creator or a journeybot admin can change its subscriptions. "
            f"{runtime.settings.slack_access_help}")


def _listing(runtime: BotRuntime, channel: str) -> SlackMessage:
    with runtime.session() as session:
        subscriptions = list_subscriptions(session, channel_id=channel)
        lines = [f"{s.id}: {summary(s)}" for s in subscriptions]
    if not lines:
        return _text("This channel has no subscriptions. Try `/journey subscribe digest weekly mon 09:00 Europe/Berlin`.")
    return _text("This channel receives:\n" + "\n".join(lines))


def _text(text: str) -> SlackMessage:
    return SlackMessage(text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=text))])
