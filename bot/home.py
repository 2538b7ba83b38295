"""App Home: the viewer's open deals and nudge settings, the map at a glance, the user's
recent questions, channel subscriptions.

"My open deals" are the deals the viewer owns in HubSpot: their Slack profile email is
matched to a CRM owner (bot/owners.py; the email stays in that lookup), so they see only
what they already see in HubSpot and need no CRM clearance. A CRM that is not configured
or fails costs one line on the Home, never the Home itself.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.blocks import render_home
from bot.owners import owner_id_for_slack_user
from bot.runtime import BotRuntime
from skills.context import SkillContext
from skills.my_deals import MyOpenDeals, my_open_deals
from skills.nudges import settings_of
from skills.outcome import new_error_id
from skills.schedules import summary
from storage.nudge_preferences import fetch_nudge_preference
from storage.question_log import list_questions
from storage.subscriptions import ScheduledRun, latest_runs, list_subscriptions

log = logging.getLogger(__name__)
RECENT = 5
NO_CRM = "Connect HubSpot (JOURNEYBOT_HUBSPOT_ACCESS_TOKEN) to see your open deals here."
NO_OWNER = "Your Slack email matches no HubSpot owner, so no deals are shown."
CRM_DOWN = "The CRM did not answer, so your deals are not shown this time (error id {})."


def publish_home(runtime: BotRuntime, user_id: str) -> None:
    ctx = replace(runtime.context(None, user_id), interactive=True)  # someone is looking: CRM failures at once
    journey_map = ctx.journey_map
    with runtime.session() as session:
        recent = [e.question for e in list_questions(session, user=user_id, limit=RECENT)]
        visible = runtime.channels.channels_of(user_id)  # a user sees only the channels they are in
        shown = [s for s in list_subscriptions(session) if s.channel_id in visible]
        last = latest_runs(session, [s.id for s in shown if s.id is not None])
        subscriptions = [(s.channel_id, f"{s.id}: {s.kind}{_last_run(last.get(s.id or 0))}", summary(s)) for s in shown]
        nudges = settings_of(fetch_nudge_preference(session, user_id), runtime.settings.nudge_daily_cap)
    deals, note = _my_deals(runtime, ctx, user_id)
    blocks = render_home(journey_map, recent, subscriptions, deals=deals, deals_note=note, nudge_settings=nudges)
    runtime.client.views_publish(user_id=user_id, view={"type": "home", "blocks": [b.to_dict() for b in blocks]})


def _my_deals(runtime: BotRuntime, ctx: SkillContext, user_id: str) -> tuple[MyOpenDeals | None, str]:
    """The viewer's open deals, or None and the line that says why not."""
    if not ctx.crm_configured:
        return None, NO_CRM
    try:
        owner_id = owner_id_for_slack_user(runtime.client, ctx.gateway.owners(), user_id)
        if owner_id is None:
            return None, NO_OWNER
        return my_open_deals(ctx, owner_id), ""
    except Exception:  # noqa: BLE001 - the rest of the Home still renders
        error_id = new_error_id()
        log.warning("App Home: open deals not read (error id %s)", error_id, exc_info=True)
        return None, CRM_DOWN.format(error_id)


def _last_run(run: ScheduledRun | None) -> str:
    """A subscriber sees when their subscription stopped working, and why."""
    if run is None:
        return ""
    why = f": {run.detail}" if run.state in ("failed", "retrying", "delayed") and run.detail else ""
    return f" · last run {run.period} {run.state}{why}"
