"""Bolt middleware: checks every request passes before any listener runs.

- Another app's or another workspace's requests are refused (a signing secret shared by
  mistake, an org-wide install the bot was not meant for).
- An event is claimed by its id once, in the database, so Slack's retries and duplicate
  deliveries never run a listener twice, across processes too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.errors import SlackApiError

from bot.runtime import BotRuntime
from storage.slack_state import claim_event

log = logging.getLogger(__name__)


class Identity:
    """This app's id and workspace: from settings, else learned once from auth.test."""

    def __init__(self, runtime: BotRuntime) -> None:
        self._runtime = runtime
        self._app_id = runtime.settings.slack_app_id or None
        self._team_id = runtime.settings.slack_team_id or None
        self._learned = bool(self._app_id and self._team_id)
        self._lock = threading.Lock()

    def known(self) -> tuple[str | None, str | None]:
        if not self._learned:
            with self._lock:
                if not self._learned:
                    self._learn()
        return self._app_id, self._team_id

    def _learn(self) -> None:
        try:
            result = self._runtime.client.auth_test()
        except (SlackApiError, OSError) as exc:
            log.warning("auth.test failed (%s); app and workspace checks wait for the next request", type(exc).__name__)
            return
        self._app_id = self._app_id or result.get("app_id")
        self._team_id = self._team_id or result.get("team_id")
        self._learned = True


def request_ids(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(api_app_id, team id) of any Slack payload: events, commands, interactions."""
    team = body.get("team_id") or (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
    return body.get("api_app_id"), team


def install(app: App, runtime: BotRuntime) -> None:
    identity = Identity(runtime)

    def ours_only(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002 - Bolt's name
        app_id, team_id = request_ids(body)
        our_app, our_team = identity.known()
        if (our_app and app_id and app_id != our_app) or (our_team and team_id and team_id != our_team):
            log.warning("refused a request for app %s / workspace %s", app_id, team_id)
            return BoltResponse(status=403, body="not for this app")
        return next()

    def once_per_event(body: dict[str, Any], req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            with runtime.session() as session:
                if not claim_event(session, event_id):
                    return BoltResponse(status=200, body="")
        return next()

    app.middleware(ours_only)
    app.middleware(once_per_event)
