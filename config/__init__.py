"""The one settings object, read once from the environment and passed down."""

from config.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]
