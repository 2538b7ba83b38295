"""`python -m bot.socket_mode`: the bot over Socket Mode (no public URL), one process."""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.app import SlackNotConfigured, build_runtime, create_app
from config import load_settings


def main() -> None:
    settings = load_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.slack_app_token is None:
        raise SlackNotConfigured("Socket Mode needs JOURNEYBOT_SLACK_APP_TOKEN (xapp-…)")
    app = create_app(build_runtime(settings))
    SocketModeHandler(app, settings.slack_app_token.get_secret_value()).start()


if __name__ == "__main__":
    main()
