"""The bot over Socket Mode (no public URL), one process: `journeybot slack socket`, or
`python -m bot.socket_mode`."""

from __future__ import annotations

import logging
import sys

from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.app import SlackNotConfigured, build_runtime, create_app
from config import ConfigError, Settings, load_settings

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
    try:
        settings = load_settings()
        logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        serve(settings)
    except ConfigError as exc:
        log.debug("details of the error below", exc_info=exc)
        print(exc, file=sys.stderr)  # one line naming the setting, as `journeybot slack socket` prints it
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
