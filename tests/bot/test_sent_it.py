""""Sent it" through the real app: a deal answer carries one button per asset; a signed
click records the send once, turns the button into who sent it and (setting on) logs a
note on the sandbox deal; without the scope the clicker is told in one line."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from sqlmodel import delete

from bot import ids
from bot.button_values import SentRef
from sandbox.server import SandboxServer
from storage.content_sent import ContentSent, list_content_sent
from storage.crm_snapshot import clear_snapshot
from storage.engine import session_scope
from tests.bot.conftest import BotServer
from tests.skills.account_fixtures import (  # noqa: F401  (fixtures)
    TOKEN,
    Planted,
    planted_portal,
    skill_server,
)


def _bot(make_bot: Any, server: SandboxServer, **overrides: Any) -> BotServer:
    bot: BotServer = make_bot(hubspot_access_token=TOKEN, hubspot_base_url=server.base_url, slack_crm_users="U0REP",
                              hubspot_backoff_base_s=0.01, hubspot_write_notes=True, **overrides)
    with session_scope(bot.runtime.knowledge.engine) as session:  # the engine is shared across the session
        clear_snapshot(session)
        session.exec(delete(ContentSent))  # type: ignore[call-overload]
    return bot


def _deal_answer(bot: BotServer, event_id: str) -> dict[str, Any]:
    ts = f"17000001{event_id[-2:]}.000100"
    bot.event({"type": "app_mention", "user": "U0REP", "channel": "C0DEALS", "ts": ts,
               "text": "<@U0JOURNEY> deal Quasar Platform rollout"}, event_id=event_id)
    calls = bot.slack.wait_for(lambda c: any(x["method"] == "chat.postMessage" for x in c), timeout=30)
    posted = [c["params"] for c in calls if c["method"] == "chat.postMessage"][-1]
    stored = next(m for m in bot.slack.messages["C0DEALS"] if m.get("thread_ts") == ts and m.get("blocks"))
    assert "Quasar Platform rollout" in json.dumps(posted)
    return stored


def _sent_buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b["accessory"] for b in blocks if (b.get("accessory") or {}).get("action_id") == ids.SENT_IT]


def _click(bot: BotServer, message: dict[str, Any], value: str, user: str) -> None:
    payload = {"type": "block_actions", "team": {"id": "T0TEST"}, "user": {"id": user}, "api_app_id": "A0JOURNEY",
               "channel": {"id": "C0DEALS"}, "container": {"type": "message", "channel_id": "C0DEALS",
                                                           "message_ts": message["ts"]},
               "message": {"ts": message["ts"], "type": "message", "blocks": message["blocks"]},
               "trigger_id": "1.2.3", "response_url": bot.slack.response_url("s1"),
               "actions": [{"action_id": ids.SENT_IT, "block_id": "b1", "value": value, "type": "button",
                            "action_ts": "1"}]}
    reply = bot.signed(urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded")
    assert reply.status == 200


def _notes_on(server: SandboxServer, deal_id: int) -> list[str]:
    portal = server.portal
    return [str(portal.objects["notes"][n].properties["hs_note_body"]) for n in portal.associated("deals", "notes", deal_id)]


def test_a_click_records_once_marks_the_button_and_logs_the_note(
        make_bot: Any, skill_server: SandboxServer, planted_portal: tuple[Any, Planted]) -> None:
    deal_id = planted_portal[1].open_deal_id
    bot = _bot(make_bot, skill_server)
    bot.slack.display_names["U0REP"] = "Ava Rep"
    notes_before = _notes_on(skill_server, deal_id)
    message = _deal_answer(bot, "EvSent01")
    buttons = _sent_buttons(message["blocks"])
    assert buttons and all(b["text"]["text"] == "Sent it" for b in buttons)
    ref = SentRef.decode(buttons[0]["value"])
    assert (ref.deal_id, ref.stage_id) == (str(deal_id), "qualifiedtobuy") and ref.entered_ms is not None

    _click(bot, message, buttons[0]["value"], "U0REP")
    calls = bot.slack.wait_for(lambda c: any(x["method"] == "chat.update" for x in c), timeout=30)
    update = [c["params"] for c in calls if c["method"] == "chat.update"][-1]
    blocks = update["blocks"] if isinstance(update["blocks"], list) else json.loads(update["blocks"])
    values = [b["value"] for b in _sent_buttons(blocks)]
    assert buttons[0]["value"] not in values and len(values) == len([b for b in buttons if b["value"] != buttons[0]["value"]])
    assert "Sent ✓ by <@U0REP>" in json.dumps(blocks, ensure_ascii=False)
    stored = next(m for m in bot.slack.messages["C0DEALS"] if m["ts"] == message["ts"])
    assert "Sent ✓ by <@U0REP>" in json.dumps(stored["blocks"], ensure_ascii=False)

    new_notes = [n for n in _notes_on(skill_server, deal_id) if n not in notes_before]
    assert len(new_notes) == 1 and "Ava Rep" in new_notes[0]

    _click(bot, message, buttons[0]["value"], "U0OTHER")  # an old copy of the message, clicked again
    calls = bot.slack.wait_for(lambda c: any(x["method"] == "response_url" for x in c), timeout=30)
    line = [c["params"] for c in calls if c["method"] == "response_url"][-1]["text"]
    assert "already recorded" in line and "<@U0REP>" in line
    time.sleep(0.3)
    with session_scope(bot.runtime.knowledge.engine) as session:
        rows = list_content_sent(session)
    assert [(r.deal_id, r.crm_stage_id, r.journey_stage_id, r.asset_id, r.user) for r in rows] == [
        (str(deal_id), "qualifiedtobuy", "consideration", ref.asset_id, "U0REP")]
    assert rows[0].stage_entered_at is not None and int(rows[0].stage_entered_at.timestamp() * 1000) == ref.entered_ms
    assert len([n for n in _notes_on(skill_server, deal_id) if n not in notes_before]) == 1


def test_without_the_scope_the_clicker_is_told_in_one_line(
        make_bot: Any, planted_portal: tuple[Any, Planted]) -> None:
    portal, planted = planted_portal
    read_only = ["crm.objects.deals.read", "crm.objects.contacts.read", "crm.objects.companies.read",
                 "crm.objects.owners.read", "crm.schemas.deals.read"]
    with SandboxServer(portal, token=TOKEN, scopes=read_only, rate_limit=None, search_rate_limit=None) as server:
        notes_before = _notes_on(server, planted.open_deal_id)
        bot = _bot(make_bot, server)
        message = _deal_answer(bot, "EvSent02")
        value = _sent_buttons(message["blocks"])[0]["value"]
        _click(bot, message, value, "U0REP")
        calls = bot.slack.wait_for(lambda c: any(x["method"] == "response_url" for x in c), timeout=30)
        assert server.counts["create:notes"] == 0
    line = [c["params"] for c in calls if c["method"] == "response_url"][-1]["text"]
    assert "\n" not in line and "crm.objects.contacts.write" in line and "Recorded" in line
    assert any(c["method"] == "chat.update" for c in calls)  # the button is marked all the same
    with session_scope(bot.runtime.knowledge.engine) as session:
        assert len(list_content_sent(session)) == 1
    assert _notes_on(server, planted.open_deal_id) == notes_before
