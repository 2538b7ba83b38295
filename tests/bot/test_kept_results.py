"""Show more pages the run the user saw: no second CRM read, no new files; a kept run is
read back only in the conversation it was shown in."""

from __future__ import annotations

from typing import Any

from bot import ids
from bot.answering import perform
from bot.dispatch import run_skill
from bot.jobs import Job
from bot.replies import ReplyTo
from bot.runtime import BotRuntime
from sandbox.server import SandboxServer
from sandbox.slack_api import SlackStandIn
from storage.crm_snapshot import clear_snapshot
from storage.engine import session_scope
from tests.scheduler.conftest import crm, runtime, slack  # noqa: F401 - fixtures


def _more(message: Any) -> str:
    values = [e.value for b in message.blocks if b.type == "actions" for e in b.elements
              if getattr(e, "action_id", None) == ids.SHOW_MORE]
    assert values, "this run should be longer than one message"
    return str(values[0])


def test_show_more_pages_the_kept_run(runtime: BotRuntime, slack: SlackStandIn, crm: SandboxServer) -> None:
    reports = runtime.settings.data_dir / "reports"
    first = run_skill(runtime, "churn", "--min_severity low", channel="C0PAGES", user="U0ADMIN")
    more = _more(first.message)
    assert more.startswith("churn|") and "|@" in more
    crm_requests = crm.total_requests
    files = sorted(p.name for p in reports.rglob("*")) if reports.exists() else []
    to = ReplyTo("C0PAGES", "U0ADMIN", response_url=slack.response_url("more"))
    perform(runtime, Job("action", to, action_id=ids.SHOW_MORE, value=more))
    page = [c["params"] for c in slack.of("response_url") if c["params"]["_url"] == "more"][-1]
    assert page["response_type"] == "ephemeral" and page["text"] != first.message.text
    assert crm.total_requests == crm_requests  # paged from the kept run: HubSpot not asked again
    assert (sorted(p.name for p in reports.rglob("*")) if reports.exists() else []) == files

    elsewhere = ReplyTo("C0ELSEWHERE", "U0ADMIN", response_url=slack.response_url("else"))
    perform(runtime, Job("action", elsewhere, action_id=ids.SHOW_MORE, value=more))
    assert [c for c in slack.of("response_url") if c["params"]["_url"] == "else"]  # answered by running it there
    with session_scope(runtime.knowledge.engine) as session:  # the engine is shared with other tests' portals
        clear_snapshot(session)
