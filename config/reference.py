"""The settings table in the README, generated from the Settings fields so the two never
drift: `python -m config.reference` prints it."""

from __future__ import annotations

from config.environment import env_name
from config.settings import Settings

SPECIAL_DEFAULTS = {
    "journey_map_path": "the packaged sample map",
    "data_dir": ("a per-user folder (Linux ~/.local/share/journeybot, macOS ~/Library/Application Support/journeybot); "
                 "`journeybot where` prints it"),
    "embedding_model_dir": "~/.cache/journeybot/models/all-MiniLM-L6-v2",
    "database_url": "sqlite:///&lt;data_dir&gt;/journeybot.db",
    "chroma_path": "&lt;data_dir&gt;/chroma",
}


def settings_table() -> str:
    lines = ["| variable | default | what it is |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = SPECIAL_DEFAULTS.get(name, field.default)
        shown = "—" if default in (None, "") else (default if name in SPECIAL_DEFAULTS else f"`{default}`")
        lines.append(f"| `{env_name(name)}` | {shown} | {field.description or ''} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(settings_table())
