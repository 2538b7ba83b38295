"""The one settings object, read once from the environment and passed down."""

from config.environment import load_settings
from config.errors import ConfigError
from config.settings import Settings

__all__ = ["ConfigError", "Settings", "load_settings"]
