"""App Home: the map at a glance, the user's recent questions, channel subscriptions."""

from __future__ import annotations

from bot.blocks import render_home
from bot.runtime import BotRuntime
from skills.schedules import describe
from storage.question_log import list_questions
from storage.subscriptions import ScheduledRun, latest_runs, list_subscriptions

RECENT = 5


def publish_home(runtime: BotRuntime, user_id: str) -> None:
    journey_map = runtime.context(None, user_id).journey_map
    with runtime.session() as session:
        recent = [e.question for e in list_questions(session, user=user_id, limit=RECENT)]
        visible = runtime.channels.channels_of(user_id)  # a user sees only the channels they are in
        shown = [s for s in list_subscriptions(session) if s.channel_id in visible]
        last = latest_runs(session, [s.id for s in shown if s.id is not None])
        subscriptions = [(s.channel_id, f"{s.id}: {s.kind}{_last_run(last.get(s.id or 0))}", describe(s.kind, s.cron, s.timezone))
                         for s in shown]
    blocks = render_home(journey_map, recent, subscriptions)
    runtime.client.views_publish(user_id=user_id, view={"type": "home", "blocks": [b.to_dict() for b in blocks]})


def _last_run(run: ScheduledRun | None) -> str:
    """A subscriber sees when their subscription stopped working, and why."""
    if run is None:
        return ""
    why = f": {run.detail}" if run.state in ("failed", "retrying", "delayed") and run.detail else ""
    return f" · last run {run.period} {run.state}{why}"
