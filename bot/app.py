"""The Bolt app, built from settings: one factory for HTTP mode, Socket Mode and tests."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler

from bot.access import AccessPolicy
from bot.listeners import actions, commands, events
from bot.runtime import BotRuntime
from config import Settings
from knowledge.service import KnowledgeService
from skills.builtin import default_registry

log = logging.getLogger(__name__)
LISTENER_THREADS = 64


class SlackNotConfigured(RuntimeError):
    """A Slack token or secret the chosen mode needs is missing."""


def build_runtime(settings: Settings, *, knowledge: KnowledgeService | None = None, client: WebClient | None = None) -> BotRuntime:
    if settings.slack_bot_token is None:
        raise SlackNotConfigured("JOURNEYBOT_SLACK_BOT_TOKEN is not set (see docs/slack.md)")
    if client is None:
        client = WebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_base_url)
        # Slack answers `ratelimited` (429 + Retry-After) and the odd 5xx: retry those, bounded.
        client.retry_handlers.extend([RateLimitErrorRetryHandler(max_retry_count=2), ServerErrorRetryHandler(max_retry_count=2)])
    return BotRuntime(settings, knowledge or KnowledgeService(settings), default_registry(), client, AccessPolicy(settings, client))


def create_app(runtime: BotRuntime) -> App:
    settings = runtime.settings
    if settings.slack_signing_secret is None and settings.slack_app_token is None:
        raise SlackNotConfigured("JOURNEYBOT_SLACK_SIGNING_SECRET is needed in HTTP mode (see docs/slack.md)")
    app = App(
        client=runtime.client,
        signing_secret=settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None,
        process_before_response=False,
        # Acks run on these threads; the heavy part of each listener waits on runtime.work.
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="bolt"),
        raise_error_for_unhandled_request=False,
    )
    commands.register(app, runtime)
    events.register(app, runtime)
    actions.register(app, runtime)
    return app
