"""The Bolt app, built from settings: one factory for HTTP mode, Socket Mode and tests."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler

from bot import middleware
from bot.access import AccessPolicy
from bot.http import HUBSPOT_PATH, WSGIApp, make_wsgi_app
from bot.hubspot_webhooks import HubSpotWebhooks
from bot.listeners import actions, commands, events
from bot.nudge_delivery import run_nudge_scan
from bot.nudge_gate import preference_gate
from bot.runtime import BotRuntime
from bot.work_queue import WorkQueue, open_queue
from config import ConfigError, Settings
from knowledge.service import KnowledgeService
from skills.builtin import default_registry
from skills.outcome import new_error_id

log = logging.getLogger(__name__)


class SlackNotConfigured(ConfigError):
    """A Slack token or secret the chosen mode needs is missing (a setting to fix: entry
    points print its one line)."""


def build_runtime(settings: Settings, *, knowledge: KnowledgeService | None = None,
                  client: WebClient | None = None,
                  on_deal_changes: Callable[[list[str]], None] | None = None) -> BotRuntime:
    """`on_deal_changes` receives the deal ids of each webhook job (see bot.deal_changes);
    by default the nudge scan looks at those deals."""
    if settings.slack_bot_token is None:
        raise SlackNotConfigured("JOURNEYBOT_SLACK_BOT_TOKEN is not set (see docs/slack.md)")
    if client is None:
        client = WebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_base_url)
        # Slack answers `ratelimited` (429 + Retry-After) and the odd 5xx: retry those, bounded.
        client.retry_handlers.extend([RateLimitErrorRetryHandler(max_retry_count=2), ServerErrorRetryHandler(max_retry_count=2)])
    knowledge = knowledge or KnowledgeService(settings)
    if "journey_map_path" not in settings.model_fields_set:
        log.warning("JOURNEYBOT_JOURNEY_MAP_PATH is not set: the bot serves the packaged SAMPLE map (a made-up "
                    "company), not yours. Set it to your journey map's YAML file.")
    runtime = BotRuntime(settings, knowledge, default_registry(), client, AccessPolicy(settings, client),
                         on_deal_changes=on_deal_changes)
    if on_deal_changes is None:
        runtime.on_deal_changes = partial(_scan_deals, runtime)
    return runtime


def _scan_deals(runtime: BotRuntime, deal_ids: list[str]) -> None:
    report = run_nudge_scan(runtime, deal_ids=deal_ids, gate=preference_gate(runtime))
    log.info("webhook nudge scan of %d deals: %d queued, %d posted%s", len(deal_ids), len(report.queued),
             report.count("posted"), f" ({report.crm_problem})" if report.crm_problem else "")


def create_app(runtime: BotRuntime, queue: WorkQueue | None = None) -> App:
    """Listeners only verify, ack and enqueue (`process_before_response`: the HTTP reply
    leaves once the job is queued, so an acked request is never only in memory)."""
    settings = runtime.settings
    if settings.slack_signing_secret is None and settings.slack_app_token is None:
        raise SlackNotConfigured("JOURNEYBOT_SLACK_SIGNING_SECRET is needed in HTTP mode (see docs/slack.md)")
    app = App(
        client=runtime.client,
        signing_secret=settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None,
        process_before_response=True,
        token_verification_enabled=False,  # boot even when Slack is unreachable; the first request checks the token
        raise_error_for_unhandled_request=False,
    )
    queue = queue or open_queue(runtime)
    middleware.install(app, runtime)
    commands.register(app, runtime, queue)
    events.register(app, runtime, queue)
    actions.register(app, runtime, queue)
    app.error(_on_error)
    return app


def create_web_app(runtime: BotRuntime, queue: WorkQueue | None = None) -> WSGIApp:
    """The web process's WSGI app: Slack's endpoint and, with a HubSpot client secret set,
    HubSpot's deal-stage webhooks, both feeding the same work queue."""
    queue = queue or open_queue(runtime)
    hubspot = None
    if runtime.settings.hubspot_client_secret is None:
        log.info("HubSpot webhooks are off (JOURNEYBOT_HUBSPOT_CLIENT_SECRET is not set); the clock's scan "
                 "finds deal stage changes")
    else:
        hubspot = HubSpotWebhooks(runtime, queue)
        log.info("HubSpot webhooks on at %s", HUBSPOT_PATH)
    return make_wsgi_app(create_app(runtime, queue), hubspot=hubspot)


def _on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
    """A listener crashed before its work was queued: log it with an id; Slack retries."""
    error_id = new_error_id()
    log.error("request %s failed (error id %s)", body.get("type") or body.get("command"), error_id, exc_info=error)
    return BoltResponse(status=500, body=f"error id {error_id}")
