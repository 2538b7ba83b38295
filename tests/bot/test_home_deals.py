"""App Home's "my open deals" and nudge settings, end to end: an `app_home_opened` event
to the real app, the viewer found as a HubSpot owner through their Slack profile email
(Slack stand-in), their deals read from the sandbox portal, the view `views.publish`
carried checked against the portal's raw records and the map file, never an email in it."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from bot.home import NO_CRM, NO_OWNER
from sandbox.generator import generate_portal
from sandbox.model import Portal, PortalSize
from sandbox.server import SandboxServer
from storage.crm_snapshot import clear_snapshot
from storage.engine import session_scope
from tests.bot.conftest import BotServer
from tests.conftest import SAMPLE_MAP

TOKEN = "home-deals-token"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
DAY_MS = 86_400_000
SHOWN = 10


@pytest.fixture(scope="module")
def portal() -> Portal:
    return generate_portal(23, PortalSize(companies=60, contacts=300, deals=260, engagements=400),
                           now=dt.datetime.now(dt.UTC), owners=4)


@pytest.fixture(scope="module")
def crm(portal: Portal) -> Iterator[SandboxServer]:
    with SandboxServer(portal, token=TOKEN, rate_limit=None, search_rate_limit=None) as server:
        yield server


def targets() -> dict[str, float]:
    """Deal stage id -> the target days of the journey stage listing it, from the map file."""
    data = yaml.safe_load(SAMPLE_MAP.read_text(encoding="utf-8"))
    return {deal_stage: float(stage["target_days_in_stage"]) for stage in data["stages"]
            for deal_stage in stage["hubspot"]["deal_stages"]}


def open_deals(portal: Portal, owner_id: int) -> list[dict[str, Any]]:
    """The owner's open deals from the raw records, most overdue first (days over target as
    a share of it; deals without a target after those with one, longest in stage first)."""
    goal = targets()
    out = []
    for deal in portal.objects["deals"].values():
        p = deal.properties
        if p["hubspot_owner_id"] != str(owner_id) or p["hs_is_closed"] != "false":
            continue
        entered = portal.deal_paths[deal.id][-1][1]
        days = (portal.now_ms - entered) / DAY_MS
        target = goal.get(str(p["dealstage"]))
        out.append({"name": p["dealname"], "days": days, "target": target,
                    "key": (0, -days / target) if target else (1, -days)})
    return sorted(out, key=lambda d: (d["key"], d["name"].casefold()))


def home_view(bot: BotServer, user: str, event_id: str) -> tuple[dict[str, Any], str]:
    bot.event({"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home"}, event_id=event_id)
    calls = bot.slack.wait_for(lambda c: any(x["method"] == "views.publish" and x["params"].get("user_id") == user
                                             for x in c), timeout=60)
    view = [c for c in calls if c["method"] == "views.publish" and c["params"]["user_id"] == user][-1]["params"]
    return view, json.dumps(view, ensure_ascii=False)


def crm_bot(make_bot: Any, crm: SandboxServer, **overrides: Any) -> BotServer:
    bot: BotServer = make_bot(hubspot_access_token=TOKEN, hubspot_base_url=crm.base_url, hubspot_backoff_base_s=0.01,
                              **overrides)
    with session_scope(bot.runtime.knowledge.engine) as session:  # the engine is shared: forget other portals' records
        clear_snapshot(session)
    return bot


def test_home_lists_the_viewers_open_deals_most_overdue_first(make_bot: Any, crm: SandboxServer, portal: Portal) -> None:
    owner = max(portal.owners, key=lambda o: len(open_deals(portal, o.id)))
    expected = open_deals(portal, owner.id)
    assert len(expected) > SHOWN  # the list is bounded and says how many more
    bot = crm_bot(make_bot, crm)
    bot.slack.add_user("U0OWNER", tz="Europe/Berlin", email=owner.email.upper())  # Slack keeps its own casing
    view, text = home_view(bot, "U0OWNER", "EvHome01")
    assert view["view"]["type"] == "home"
    shown = [d["name"] for d in expected[:SHOWN]]
    positions = [text.find(f"*{name}*") for name in shown]
    assert all(p >= 0 for p in positions), shown
    assert positions == sorted(positions)  # most overdue first
    assert f"{len(expected) - SHOWN} more open deals not shown" in text
    for deal in expected[SHOWN:]:
        assert f"*{deal['name']}*" not in text
    others = [d["name"] for o in portal.owners if o.id != owner.id for d in open_deals(portal, o.id)]
    assert not any(f"*{name}*" in text for name in others)  # nobody else's deals
    top = expected[0]
    assert top["target"] and top["days"] > top["target"]
    days = {f"{top['days'] - 0.01:.0f}", f"{top['days'] + 0.01:.0f}"}  # the clock moved on a little
    assert any(f"*{top['name']}* · " in text and f"{d} days in stage vs target {top['target']:g} ⚠️ over target" in text
               for d in days), text[:2000]
    assert "Next: <" in text  # the content to send next, as a link
    assert "Nudges are on · quiet 19:00–08:00 your time · at most 5 a day." in text
    assert EMAIL.search(text) is None and owner.email.lower() not in text.lower()
    assert "Consideration" in text  # the map at a glance is still there


def test_home_says_in_one_line_why_no_deals_are_shown(make_bot: Any, crm: SandboxServer, slack_api: Any) -> None:
    bot = crm_bot(make_bot, crm)
    bot.slack.add_user("U0STRANGER", email="nobody@elsewhere.example")
    _, text = home_view(bot, "U0STRANGER", "EvHome02")
    assert NO_OWNER in text and "My open deals" in text and "Consideration" in text
    assert EMAIL.search(text) is None


def test_home_without_a_crm_still_renders(make_bot: Any) -> None:
    bot = make_bot()
    bot.slash("nudges cap 2", user="U0NOCRM")
    bot.slack.wait_for(lambda c: any(x["method"] == "response_url" for x in c))
    _, text = home_view(bot, "U0NOCRM", "EvHome03")
    assert NO_CRM in text and "at most 2 a day" in text and "Consideration" in text


def test_home_when_the_crm_fails_still_renders(make_bot: Any, crm: SandboxServer) -> None:
    bot = make_bot(hubspot_access_token=TOKEN, hubspot_base_url="http://127.0.0.1:9", hubspot_max_retries=1,
                   hubspot_backoff_base_s=0.01)
    with session_scope(bot.runtime.knowledge.engine) as session:
        clear_snapshot(session)
    _, text = home_view(bot, "U0CRMDOWN", "EvHome04")
    assert "The CRM did not answer, so your deals are not shown this time (error id " in text
    assert "Consideration" in text and "Nudges are on" in text
