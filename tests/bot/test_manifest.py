"""slack-manifest.yaml agrees with the app: it parses, subscribes to exactly the events
the app listens to, declares the slash command the settings default to, and has the
scopes those events and calls need; docs/slack.md justifies every scope."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_sdk import WebClient

import bot.app as bot_app
from config import Settings

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "slack-manifest.yaml"
DOCS = ROOT / "docs" / "slack.md"

# The scope each event subscription needs (Slack refuses a manifest that lacks it).
EVENT_SCOPES = {
    "app_mention": "app_mentions:read",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
    "message.mpim": "mpim:history",
    "app_home_opened": None,
}


class RecordingApp:
    """Stands in for slack_bolt.App inside create_app: records what gets registered."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.registered: dict[str, list[Any]] = defaultdict(list)

    def __getattr__(self, kind: str) -> Any:
        if kind.startswith("_"):
            raise AttributeError(kind)

        def register(*args: Any, **_: Any) -> Any:
            self.registered[kind].append(args[0] if args else None)
            return lambda handler: handler

        return register


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def registered() -> dict[str, list[Any]]:
    settings = Settings.from_mapping({"slack_bot_token": "xoxb-x", "slack_signing_secret": "s"})
    runtime = bot_app.build_runtime(settings, knowledge=object(), client=WebClient(token="xoxb-x"))  # type: ignore[arg-type]
    original = bot_app.App
    bot_app.App = RecordingApp  # type: ignore[misc,assignment]
    try:
        app = bot_app.create_app(runtime)
    finally:
        bot_app.App = original  # type: ignore[misc]
    assert isinstance(app, RecordingApp)
    return dict(app.registered)


def test_manifest_shape(manifest: dict[str, Any]) -> None:
    assert manifest["_metadata"]["major_version"] == 2
    info = manifest["display_information"]
    assert info["name"] and len(info["description"]) <= 140
    assert 174 <= len(info["long_description"]) <= 4000  # Slack's limits
    features, settings = manifest["features"], manifest["settings"]
    assert features["bot_user"]["display_name"]
    assert features["app_home"] == {"home_tab_enabled": True, "messages_tab_enabled": True, "messages_tab_read_only_enabled": False}
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    urls = [settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"]]
    urls += [c["url"] for c in features["slash_commands"]]
    assert urls and all(u == "https://YOUR-HOST/slack/events" for u in urls)


def test_events_match_listeners(manifest: dict[str, Any], registered: dict[str, list[Any]]) -> None:
    subscribed = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert len(subscribed) == len(set(subscribed))
    # message.channels / .groups / .im all arrive as events of type "message".
    delivered = {e.split(".", 1)[0] for e in subscribed}
    listened = set(registered.get("event", []))
    assert listened, "create_app registered no event listeners"
    assert delivered == listened
    assert {"message.channels", "message.groups", "message.im"} <= set(subscribed)


def test_slash_command_matches_settings(manifest: dict[str, Any], registered: dict[str, list[Any]]) -> None:
    default = Settings.model_fields["slack_command"].default
    commands = manifest["features"]["slash_commands"]
    assert [c["command"] for c in commands] == [default]
    assert registered["command"] == [default]
    assert commands[0]["usage_hint"] and commands[0]["description"]
    assert commands[0]["should_escape"] is False


def test_scopes_cover_events_and_calls(manifest: dict[str, Any]) -> None:
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert len(scopes) == len(set(scopes))
    for event in manifest["settings"]["event_subscriptions"]["bot_events"]:
        assert event in EVENT_SCOPES, f"no scope rule for {event}"
        if EVENT_SCOPES[event]:
            assert EVENT_SCOPES[event] in scopes
    # chat.postMessage/postEphemeral, the slash command, files_upload_v2, App Home DMs,
    # user-group access checks.
    for needed in ("chat:write", "commands", "files:write", "im:write", "usergroups:read"):
        assert needed in scopes
    assert "user" not in manifest["oauth_config"]["scopes"], "journeybot needs no user-token scopes"


def test_docs_justify_every_scope(manifest: dict[str, Any]) -> None:
    text = DOCS.read_text(encoding="utf-8")
    for scope in manifest["oauth_config"]["scopes"]["bot"]:
        assert f"| `{scope}` |" in text, f"docs/slack.md's scopes table lacks {scope}"
