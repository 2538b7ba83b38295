"""`gunicorn bot.wsgi:application`: the HTTP-mode bot for several web processes."""

from __future__ import annotations

import logging

from bot.app import build_runtime, create_web_app
from config import load_settings

_settings = load_settings()
logging.basicConfig(level=_settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
_runtime = build_runtime(_settings)
_runtime.warm_up()  # gunicorn loads this module before taking traffic
application = create_web_app(_runtime)
