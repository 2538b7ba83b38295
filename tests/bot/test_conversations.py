"""Slash commands, mentions, DMs, thread follow-ups, buttons and App Home, end to end:
signed HTTP requests to the real app, answers observed at the Slack stand-in."""

from __future__ import annotations

import json
import os
import re
import time
from typing import Any

from bot import ids
from knowledge.answers import OTHER_STAGES
from storage.engine import session_scope
from storage.question_log import list_questions
from tests.bot.conftest import BotServer

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def payload_text(call: dict[str, Any]) -> str:
    return json.dumps(call["params"], default=str)


def test_slash_ask_acks_with_progress_then_answers(bot: BotServer) -> None:
    reply = bot.slash("ask CFO keeps asking about ROI, what do I send?")
    assert reply.status == 200 and reply.seconds < 3
    assert "Working on it" in reply.body.decode() and "*ask*" in reply.body.decode()
    free = bot.slash("cfo keeps asking about ROI, what do I send?").body.decode()
    assert "*your question*" in free and "*cfo*" not in free  # free text is not labelled by its first word
    calls = bot.slack.wait_for(lambda c: any(x["method"] == "response_url" for x in c))
    answer = [c for c in calls if c["method"] == "response_url"][-1]["params"]
    assert answer["response_type"] == "ephemeral" and answer["_url"] == "r1"
    assert answer["text"] and "roi-calculator" in payload_text({"params": answer})
    assert not bot.slack.of("chat.postEphemeral") and not bot.slack.of("chat.postMessage")


def test_help_lists_the_skills(bot: BotServer) -> None:
    reply = bot.slash("help")
    body = reply.body.decode()
    assert reply.status == 200
    for name in ("ask", "gaps", "account", "deal", "velocity", "churn", "stage", "content", "config", "subscribe",
                 "unsubscribe", "subscriptions"):
        assert f"/journey {name}" in body, name
    assert "subscribe digest weekly mon 09:00 Europe/Berlin" in body  # with an example that works


def test_crm_skill_refused_outside_allowed_channels(bot: BotServer) -> None:
    bot.slash("velocity", channel="C0RANDOM", user="U0REP")
    calls = bot.slack.wait_for(lambda c: any(x["method"] == "response_url" for x in c))
    refusal = payload_text([c for c in calls if c["method"] == "response_url"][-1])
    assert "not cleared" in refusal and "/journey config crm on" in refusal


def test_mention_answers_in_thread_once_despite_retries(bot: BotServer) -> None:
    event = {"type": "app_mention", "user": "U0REP", "text": "<@U0JOURNEY> what matters to IT in consideration?",
             "channel": "C0SALES", "ts": "1700000001.000100", "event_ts": "1700000001.000100"}
    assert bot.event(event, event_id="Ev001").status == 200
    bot.slack.wait_for(lambda c: any(x["method"] == "chat.postMessage" for x in c))
    assert bot.event(event, event_id="Ev001", retry=1).status == 200
    assert bot.event(event, event_id="Ev001", retry=2).status == 200
    time.sleep(1.0)
    posts = bot.slack.of("chat.postMessage")
    assert len(posts) == 1 and posts[0]["params"]["thread_ts"] == "1700000001.000100"


def test_thread_follow_up_keeps_the_stage(bot: BotServer) -> None:
    first = {"type": "app_mention", "user": "U0REP", "text": "<@U0JOURNEY> what do buyers need in the decision stage?",
             "channel": "C0SALES", "ts": "1700000002.000100"}
    bot.event(first, event_id="Ev010")
    bot.slack.wait_for(lambda c: len([x for x in c if x["method"] == "chat.postMessage"]) >= 1)
    follow = {"type": "message", "user": "U0REP", "text": "and what about the CFO?", "channel": "C0SALES",
              "channel_type": "channel", "ts": "1700000002.000300", "thread_ts": "1700000002.000100"}
    bot.event(follow, event_id="Ev011")
    bot.slack.wait_for(lambda c: len([x for x in c if x["method"] == "chat.postMessage"]) >= 2)
    with session_scope(bot.runtime.knowledge.engine) as session:
        latest = list_questions(session, limit=1)[0]
    assert latest.question == "and what about the CFO?"
    assert latest.stage_id == "decision" and latest.persona_id == "finance"


def test_unrelated_thread_messages_are_ignored(bot: BotServer) -> None:
    other = {"type": "message", "user": "U0REP", "text": "lunch?", "channel": "C0SALES", "channel_type": "channel",
             "ts": "1700000003.000300", "thread_ts": "1700000003.000100"}
    bot.event(other, event_id="Ev020")
    time.sleep(0.8)
    assert not bot.slack.of("chat.postMessage") and not bot.slack.of("chat.postEphemeral")


def test_dm_is_answered(bot: BotServer) -> None:
    dm = {"type": "message", "user": "U0REP", "text": "what does the onboarding stage mean?", "channel": "D0DM",
          "channel_type": "im", "ts": "1700000004.000100"}
    bot.event(dm, event_id="Ev030")
    calls = bot.slack.wait_for(lambda c: any(x["method"] == "chat.postMessage" for x in c))
    post = [c for c in calls if c["method"] == "chat.postMessage"][0]["params"]
    assert post["channel"] == "D0DM" and "Onboarding" in post["text"]
    assert not post.get("thread_ts")  # a DM is answered in line, not in a thread


def test_feedback_and_share_buttons(bot: BotServer) -> None:
    bot.slash("ask what matters to IT in consideration?")
    bot.slack.wait_for(lambda c: any(x["method"] == "response_url" for x in c))
    with session_scope(bot.runtime.knowledge.engine) as session:
        log_id = list_questions(session, limit=1)[0].id
    assert bot.action(ids.FEEDBACK_UP, str(log_id)).status == 200
    bot.slack.wait_for(lambda c: any("Thanks" in str(x["params"].get("text")) for x in c))
    with session_scope(bot.runtime.knowledge.engine) as session:
        assert list_questions(session, limit=1)[0].feedback == 1
    bot.action(ids.SHARE, f"ask|{log_id}")
    calls = bot.slack.wait_for(lambda c: any(x["params"].get("response_type") == "in_channel" for x in c))
    shared = [c for c in calls if c["params"].get("response_type") == "in_channel"][0]["params"]
    assert shared["_url"] == "a1" and "Consideration" in shared["text"]
    assert "Share to channel" not in payload_text({"params": shared})  # a public answer has nothing to share


def test_another_stage_is_one_click_away(bot: BotServer) -> None:
    """An answer whose stage was inferred offers the next likeliest; a click answers the
    same question again in that stage, to the asker as the first answer was."""
    bot.slash("ask CFO keeps asking about ROI, what do I send?", channel="C0STAGES")
    calls = bot.slack.wait_for(lambda c: any(x["method"] == "response_url" for x in c))
    first = [c for c in calls if c["method"] == "response_url"][-1]["params"]
    offered = [e for b in first["blocks"] if b.get("block_id") == ids.OTHER_STAGE_BLOCK for e in b["elements"]]
    assert len(offered) == OTHER_STAGES
    stage_name = offered[0]["text"]["text"].removeprefix("Answer for ")
    seen = len(bot.slack.calls)
    assert bot.action(offered[0]["action_id"], offered[0]["value"], channel="C0STAGES").status == 200
    calls = bot.slack.wait_for(lambda c: any(x["method"] == "response_url" for x in c[seen:]))
    reply = [x for x in calls[seen:] if x["method"] == "response_url"][-1]
    assert reply["params"]["_url"] == "a1" and reply["params"].get("response_type") == "ephemeral"
    assert f"stage *{stage_name}*" in payload_text(reply)
    assert not any(b.get("block_id") == ids.OTHER_STAGE_BLOCK for b in reply["params"].get("blocks") or [])  # given now


def test_subscribe_needs_a_channel_the_bot_can_post_in(bot: BotServer) -> None:
    bot.slack.outside.update({"G0SECRET": "channel_not_found", "C0OUT": "not_in_channel", "C0OLD": "is_archived"})
    for channel, why in (("G0SECRET", "can't see this channel"), ("C0OUT", "not in this channel"), ("C0OLD", "archived")):
        assert why in bot.slash("subscribe gaps monthly 2", user="U0ADMIN", channel=channel).body.decode()
        assert "no subscriptions" in bot.slash("subscriptions", channel=channel).body.decode()


def test_subscribe_checks_a_gaps_filter_against_the_map(bot: BotServer) -> None:
    refused = bot.slash("subscribe gaps monthly 2 --stage nosuch", user="U0ADMIN", channel="C0MKTG").body.decode()
    assert "unknown stage 'nosuch'" in refused and "Decision" in refused
    done = bot.slash("subscribe gaps monthly 2 --stage Decision --persona CFO", user="U0ADMIN", channel="C0MKTG").body.decode()
    assert "--stage decision --persona finance" in done
    assert "--stage decision --persona finance" in bot.slash("subscriptions", channel="C0MKTG").body.decode()


def test_app_home_shows_map_and_recent_questions(bot: BotServer) -> None:
    bot.slack.members.update({"C0HOMESUB": {"U0HOME", "U0ADMIN"}, "C0ELSEWHERE": {"U0ADMIN"}})
    bot.slash("subscribe gaps monthly 2", user="U0ADMIN", channel="C0HOMESUB")
    bot.slash("subscribe gaps monthly 5", user="U0ADMIN", channel="C0ELSEWHERE")
    bot.slash("subscribe gaps monthly 9 --persona CFO", user="U0ADMIN", channel="C0HOMESUB")
    bot.slash("ask why do forecasts miss?", user="U0HOME")
    bot.slack.wait_for(lambda c: any(x["method"] == "response_url" for x in c))
    bot.event({"type": "app_home_opened", "user": "U0HOME", "channel": "D0HOME", "tab": "home"}, event_id="Ev040")
    calls = bot.slack.wait_for(lambda c: any(x["method"] == "views.publish" for x in c))
    view = [c for c in calls if c["method"] == "views.publish"][0]["params"]
    text = json.dumps(view)
    assert view["user_id"] == "U0HOME" and "Consideration" in text and "why do forecasts miss?" in text
    assert "C0HOMESUB" in text and "gaps on day 2 of every month" in text
    assert "gaps on day 9 of every month at 09:00 UTC --persona finance" in text  # with the subscription's filters
    assert "C0ELSEWHERE" not in text  # a channel this user is not in stays out of their App Home


def test_slack_rate_limit_and_5xx_are_retried(bot: BotServer) -> None:
    bot.slack.fail_next("response_url", "500", times=3)
    bot.slack.fail_next("chat.postEphemeral", "ratelimited")
    bot.slack.fail_next("chat.postEphemeral", "500")
    bot.slash("ask what does the research stage mean?")
    bot.slack.wait_for(lambda c: len(bot.slack.of("chat.postEphemeral")) == 1, timeout=20)
    failed = [c for c in bot.slack.calls if c["failed"]]
    # response_url failed three times (two retries): the Web API carried it, retried too.
    assert [(c["method"], c["failed"]) for c in failed] == [("response_url", "500")] * 3 + [
                                                            ("chat.postEphemeral", "ratelimited"), ("chat.postEphemeral", "500")]


def test_errors_reach_the_user_with_an_id_and_no_secrets(make_bot: Any) -> None:
    bot = make_bot(hubspot_access_token="pat-secret-token-value", hubspot_base_url="http://127.0.0.1:9",
                   hubspot_max_retries=1, hubspot_backoff_base_s=0.01)
    bot.slash("churn", user="U0ADMIN")
    calls = bot.slack.wait_for(lambda c: len([x for x in c if x["method"] == "response_url"]) >= 1, timeout=20)
    message = payload_text([c for c in calls if c["method"] == "response_url"][-1])
    assert "CRM did not answer" in message and re.search(r"error id [0-9a-f]{8}", message)
    assert "pat-secret-token-value" not in json.dumps([c["params"] for c in calls])
    assert not EMAIL.search(message)


def test_churn_acknowledge_and_snooze_are_recorded(bot: BotServer) -> None:
    from storage.churn_ledger import list_churn_responses

    bot.action(ids.CHURN_ACK, "1000000042|first_value", user="U0CSM")
    bot.action(ids.CHURN_SNOOZE, "1000000042|low_nps", user="U0CSM")
    calls = bot.slack.wait_for(lambda c: len([x for x in c if x["method"] == "response_url"]) >= 2)
    notes = sorted(x["params"]["text"] for x in calls if x["method"] == "response_url")
    assert notes == ["Acknowledged by <@U0CSM>.", "Snoozed for 7 days by <@U0CSM>."]
    assert all(x["params"]["response_type"] == "in_channel" for x in calls if x["method"] == "response_url")
    with session_scope(bot.runtime.knowledge.engine) as session:
        responses = list_churn_responses(session, "1000000042")
    by_rule = {r.rule: r for r in responses}
    assert by_rule["first_value"].response == "ack" and by_rule["first_value"].user == "U0CSM" and by_rule["first_value"].until is None
    snooze = by_rule["low_nps"]
    assert snooze.response == "snooze" and snooze.until is not None
    assert 6.9 <= (snooze.until - snooze.at).total_seconds() / 86400 <= 7.1


def test_gaps_in_slack_uploads_the_heatmap(bot: BotServer) -> None:
    bot.slash("gaps")
    bot.slack.wait_for(lambda c: len([x for x in c if x["method"] == "files.completeUploadExternal"]) >= 2, timeout=40)
    names = [c["params"]["filename"] for c in bot.slack.of("files.getUploadURLExternal")]
    assert [n.rsplit(".", 1)[-1] for n in names] == ["png", "csv"]  # the heatmap and the per-question table
    uploaded = [c for c in bot.slack.calls if c["method"] == "upload"][0]["params"]
    assert uploaded["bytes"] > 1000
    completes = [c["params"] for c in bot.slack.of("files.completeUploadExternal")]
    assert {c["channel_id"] for c in completes} == {"D0REP"}  # a private answer's files go to the asker's DM


def test_a_mention_asking_for_one_stage_s_gaps_gets_that_stage_s_audit(bot: BotServer) -> None:
    event = {"type": "app_mention", "user": "U0REP", "text": "<@U0JOURNEY> content gaps in the decision stage",
             "channel": "C0SALES", "ts": "1700000901.000100"}
    assert bot.event(event, event_id="Ev090").status == 200
    calls = bot.slack.wait_for(lambda c: any(x["method"] == "chat.postMessage" for x in c), timeout=40)
    text = json.dumps([c["params"] for c in calls if c["method"] == "chat.postMessage"])
    assert "Content gaps for Decision stage" in text and "Onboarding" not in text


def test_an_answer_with_files_deletes_old_report_copies(bot: BotServer) -> None:
    """A web or worker process that never restarts still keeps its reports folder small."""
    folder = bot.runtime.settings.reports_dir
    folder.mkdir(parents=True, exist_ok=True)
    old, recent = folder / "gaps-20250101-090000.png", folder / "velocity-recent.png"
    for path in (old, recent):
        path.write_bytes(b"png")
    days = bot.runtime.settings.reports_keep_days
    stamp = time.time() - (days + 1) * 86400
    os.utime(old, (stamp, stamp))
    before = len(bot.slack.of("files.completeUploadExternal"))
    bot.slash("gaps")
    bot.slack.wait_for(lambda c: len([x for x in c if x["method"] == "files.completeUploadExternal"]) >= before + 2,
                       timeout=40)
    assert not old.exists() and recent.exists()
    assert len(list(folder.glob("gaps-*.csv"))) >= 1  # this answer's own files stay


def test_channel_config_is_for_admins_and_narrows_skills(bot: BotServer) -> None:
    channel = "C0CONFIG"  # the database is shared by the session: keep this channel's settings to itself
    refused = bot.slash("config skills ask", user="U0REP", channel=channel)
    assert "Only journeybot admins" in refused.body.decode()
    changed = bot.slash("config skills ask", user="U0ADMIN", channel=channel)
    assert "skills: ask" in changed.body.decode()
    bot.slash("gaps", user="U0REP", channel=channel)
    calls = bot.slack.wait_for(lambda c: any(x["method"] == "response_url" for x in c))
    assert "not enabled in this channel" in payload_text([c for c in calls if c["method"] == "response_url"][-1])
    shown = bot.slash("config", user="U0REP", channel=channel).body.decode()
    assert "skills: ask" in shown and "CRM skills not allowed" in shown
    assert "skills: all" in bot.slash("config", user="U0REP", channel="C0OTHER").body.decode()


def test_subscribe_list_and_unsubscribe(bot: BotServer) -> None:
    refused = bot.slash("subscribe digest weekly mon 09:00 Europe/Berlin", user="U0REP").body.decode()
    assert "Only this channel's creator or a journeybot admin" in refused
    bot.slack.creators["C0CREATED"] = "U0REP"  # the creator may subscribe, within CRM clearance
    assert "not cleared" in bot.slash("subscribe digest weekly mon 09:00 Europe/Berlin", user="U0REP", channel="C0CREATED").body.decode()
    assert "Subscribed" in bot.slash("subscribe gaps monthly 3", user="U0REP", channel="C0CREATED").body.decode()
    made = bot.slash("subscribe digest weekly mon 09:00 Europe/Berlin --pipeline default", user="U0ADMIN").body.decode()
    sub_id = re.search(r"id (\d+)", made)
    assert sub_id and "digest every Monday at 09:00 Europe/Berlin --pipeline default" in made
    assert "digest every Monday" in bot.slash("subscriptions").body.decode()
    assert "don't understand" in bot.slash("subscribe churn daily 25:61", user="U0ADMIN").body.decode()
    assert "Only this channel's creator" in bot.slash(f"unsubscribe {sub_id.group(1)}").body.decode()
    assert "removed" in bot.slash(f"unsubscribe {sub_id.group(1)}", user="U0ADMIN").body.decode()
    assert "no subscriptions" in bot.slash("subscriptions").body.decode()
