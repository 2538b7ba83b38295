"""Answers posted in Slack still carry their charts: written under the data dir's reports
folder, then uploaded (a CLI run writes none unless asked; tests/cli)."""

from __future__ import annotations

from bot.answering import perform
from bot.jobs import Job
from bot.replies import ReplyTo
from bot.runtime import BotRuntime
from sandbox.server import SandboxServer
from sandbox.slack_api import SlackStandIn
from storage.crm_snapshot import clear_snapshot
from storage.engine import session_scope
from tests.scheduler.conftest import crm, runtime, slack  # noqa: F401 - fixtures


def test_a_velocity_answer_uploads_its_chart(runtime: BotRuntime, slack: SlackStandIn, crm: SandboxServer) -> None:
    to = ReplyTo("C0VELOCITY", "U0ADMIN", response_url=slack.response_url("velocity"))
    perform(runtime, Job("command", to, text="velocity --pipeline 'Sales Pipeline'"))
    answer = [c["params"] for c in slack.of("response_url") if c["params"]["_url"] == "velocity"]
    assert answer and "Velocity" in answer[-1]["text"]
    titles = [f["title"] for c in slack.of("files.completeUploadExternal") for f in c["params"]["files"]]
    assert len(titles) == 1 and titles[0].startswith("velocity-default-")
    assert (runtime.settings.reports_dir / f"{titles[0]}.png").exists()
    with session_scope(runtime.knowledge.engine) as session:  # the engine is shared with other tests' portals
        clear_snapshot(session)
