"""The bot over Socket Mode (no public URL), one process: `journeybot slack socket`, or
`python -m bot.socket_mode`."""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.app import SlackNotConfigured, build_runtime, create_app
from config import Settings, load_settings
from config.errors import run_entry_point

log = logging.getLogger(__name__)


def serve(settings: Settings) -> None:
    """Connect and answer until stopped. The index and model are loaded before the
    connection opens, so the first question is as quick as the rest."""
    if settings.slack_app_token is None:
        raise SlackNotConfigured("Socket Mode needs JOURNEYBOT_SLACK_APP_TOKEN (xapp-…, see docs/slack.md)")
    runtime = build_runtime(settings)
    runtime.warm_up()
    app = create_app(runtime)
    log.info("Socket Mode: connecting to Slack")
    SocketModeHandler(app, settings.slack_app_token.get_secret_value()).start()


def main() -> None:
    def start() -> None:
        settings = load_settings()
        logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        serve(settings)

    run_entry_point(start)  # a setting to fix: one line, as `journeybot slack socket` prints it


if __name__ == "__main__":
    main()
