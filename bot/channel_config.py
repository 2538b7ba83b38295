"""`/journey config ...`: a channel's allowed skills, ephemeral answers and CRM access.
Reading is open to all; changes are for the admins named in settings."""

from __future__ import annotations

from bot.blocks import render_error
from bot.message import SlackMessage
from bot.runtime import BotRuntime
from storage.slack_state import fetch_channel_config, save_channel_config

USAGE = (
    "`/journey config` shows this channel's settings. Admins: "
    "`config ephemeral on|off`, `config crm on|off`, `config skills ask,gaps,...|all`."
)


def handle_config(runtime: BotRuntime, text: str, *, channel: str, user: str) -> SlackMessage:
    words = text.split()
    with runtime.session() as session:
        config = fetch_channel_config(session, channel)
        if not words:
            return _show(config.ephemeral, config.crm_allowed, config.allowed_skills)
        if not runtime.access.is_admin(user):
            return render_error(f"Only journeybot admins can change channel settings. {runtime.settings.slack_access_help}")
        key, value = words[0].lower(), (words[1] if len(words) > 1 else "").lower()
        if key in ("ephemeral", "crm") and value in ("on", "off"):
            setattr(config, "ephemeral" if key == "ephemeral" else "crm_allowed", value == "on")
        elif key == "skills" and value:
            names = [n.strip() for n in value.split(",") if n.strip()]
            unknown = [n for n in names if n != "all" and n not in runtime.registry.skills]
            if unknown:
                return render_error(f"unknown skill(s): {', '.join(unknown)}. {USAGE}")
            config.allowed_skills = None if "all" in names else names
        else:
            return render_error(USAGE)
        saved = save_channel_config(session, config, user_id=user)
        return _show(saved.ephemeral, saved.crm_allowed, saved.allowed_skills)


def _show(ephemeral: bool, crm: bool, skills: list[str] | None) -> SlackMessage:
    text = (
        f"This channel: answers {'only to you' if ephemeral else 'in the channel'}, "
        f"CRM skills {'allowed' if crm else 'not allowed'}, skills: {', '.join(skills) if skills else 'all'}."
    )
    from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

    return SlackMessage(text=text.replace("*", ""), blocks=[SectionBlock(text=MarkdownTextObject(text=text))])
