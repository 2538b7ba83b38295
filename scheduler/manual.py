"""Operators post a subscription's period by hand (`journeybot run`): the same run as the
clock's, so still exactly once per period, unless they force a repost."""

from __future__ import annotations

import datetime as dt

from scheduler.periods import last_fire_time, period_key
from scheduler.runs import RunDeps, RunOutcome, execute
from skills.registry import SkillInputError
from storage.engine import session_scope
from storage.subscriptions import fetch_subscription, forget_run


def run_subscription_now(deps: RunDeps, subscription_id: int, *, now: dt.datetime, current: bool = False,
                         force: bool = False) -> RunOutcome:
    """Run the period of the latest due fire time, or with `current` the period `now` is
    in; `force` forgets that period's run first, so it posts again."""
    with session_scope(deps.knowledge.engine) as session:
        subscription = fetch_subscription(session, subscription_id)
        if subscription is None or not subscription.active:
            raise SkillInputError(f"no active subscription {subscription_id} (see `journeybot subscriptions`)")
        cron, timezone = subscription.cron, subscription.timezone
    fire = now if current else last_fire_time(cron, timezone, now)
    if fire is None:
        raise SkillInputError(f"subscription {subscription_id} has not been due yet; `--now` posts the current period")
    if force:
        with session_scope(deps.knowledge.engine) as session:
            forget_run(session, subscription_id, period_key(cron, timezone, fire))
    return execute(deps, subscription_id, fire)
