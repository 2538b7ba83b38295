"""App Home: the map at a glance, the user's recent questions, channel subscriptions."""

from __future__ import annotations

from bot.blocks import render_home
from bot.runtime import BotRuntime
from skills.schedules import describe
from storage.question_log import list_questions
from storage.subscriptions import list_subscriptions

RECENT = 5


def publish_home(runtime: BotRuntime, user_id: str) -> None:
    journey_map = runtime.context(None, user_id).journey_map
    with runtime.session() as session:
        recent = [e.question for e in list_questions(session, user=user_id, limit=RECENT)]
        visible = runtime.channels.channels_of(user_id)  # a user sees only the channels they are in
        subscriptions = [(s.channel_id, f"{s.id}: {s.kind}", describe(s.kind, s.cron, s.timezone))
                         for s in list_subscriptions(session) if s.channel_id in visible]
    blocks = render_home(journey_map, recent, subscriptions)
    runtime.client.views_publish(user_id=user_id, view={"type": "home", "blocks": [b.to_dict() for b in blocks]})
