"""`/journey nudges …` and nudges asked for in a DM, end to end: signed requests to the
real app, the answer observed at the Slack stand-in, the state read back from the database."""

from __future__ import annotations

import json
from typing import Any

from storage.engine import session_scope
from storage.nudge_preferences import fetch_nudge_preference
from tests.bot.conftest import BotServer


def replies(bot: BotServer, n: int) -> list[dict[str, Any]]:
    calls = bot.slack.wait_for(lambda c: len([x for x in c if x["method"] == "response_url"]) >= n, timeout=30)
    return [c["params"] for c in calls if c["method"] == "response_url"]


def test_slash_nudges_changes_and_reports_the_askers_state(bot: BotServer) -> None:
    user = "U0NUDGESLASH"
    steps = [
        ("nudges", "Nudges are on · quiet 19:00–08:00 your time · at most 5 a day."),
        ("nudges off", "Nudges are off · quiet 19:00–08:00 your time · at most 5 a day."),
        ("nudges quiet 20-7", "Nudges are off · quiet 20:00–07:00 your time · at most 5 a day."),
        ("nudges cap 3", "Nudges are off · quiet 20:00–07:00 your time · at most 3 a day."),
        ("nudges on", "Nudges are on · quiet 20:00–07:00 your time · at most 3 a day."),
        ("nudges status", "Nudges are on · quiet 20:00–07:00 your time · at most 3 a day."),
    ]
    for n, (text, line) in enumerate(steps, 1):
        ack = bot.slash(text, user=user)
        assert ack.status == 200
        answer = replies(bot, n)[-1]
        assert answer["text"] == line, text
        assert answer["response_type"] == "ephemeral"
    with session_scope(bot.runtime.knowledge.engine) as session:
        pref = fetch_nudge_preference(session, user)
        other = fetch_nudge_preference(session, "U0REP")
    assert (pref.enabled, pref.quiet_start, pref.quiet_end, pref.daily_cap) == (True, 1200, 420, 3)
    assert other.daily_cap is None and other.quiet_start == 19 * 60  # only the asker's settings changed


def test_a_mistake_gets_one_line_naming_the_setting(bot: BotServer) -> None:
    bot.slash("nudges cap 9", user="U0NUDGEMISTAKE")
    text = json.dumps(replies(bot, 1)[-1])
    assert "JOURNEYBOT_NUDGE_DAILY_CAP" in text and "at most 5" in text and "Traceback" not in text
    bot.slash("nudges quiet tonight", user="U0NUDGEMISTAKE")
    assert "quiet 20-7" in json.dumps(replies(bot, 2)[-1])
    with session_scope(bot.runtime.knowledge.engine) as session:
        assert fetch_nudge_preference(session, "U0NUDGEMISTAKE").daily_cap is None


def test_help_lists_nudges_from_its_one_declaration(bot: BotServer) -> None:
    body = bot.slash("help").body.decode()
    assert "/journey nudges" in body and "quiet 20-7" in body and "/journey nudges cap 3" in body


def test_a_dm_in_plain_words_pauses_nudges(bot: BotServer) -> None:
    dm = {"type": "message", "user": "U0NUDGEDM", "text": "please stop sending me deal nudges", "channel": "D0NUDGE",
          "channel_type": "im", "ts": "1700000090.000100"}
    bot.event(dm, event_id="EvNudge01")
    calls = bot.slack.wait_for(lambda c: any(x["method"] == "chat.postMessage" for x in c))
    post = [c for c in calls if c["method"] == "chat.postMessage"][0]["params"]
    assert post["channel"] == "D0NUDGE" and post["text"].startswith("Nudges are off")
    with session_scope(bot.runtime.knowledge.engine) as session:
        assert fetch_nudge_preference(session, "U0NUDGEDM").enabled is False
