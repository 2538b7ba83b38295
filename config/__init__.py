"""The one settings object, read once from the environment and passed down."""

from config.errors import ConfigError
from config.settings import Settings, load_settings

__all__ = ["ConfigError", "Settings", "load_settings"]
