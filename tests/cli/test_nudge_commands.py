"""`journeybot nudges scan` as a user runs it: the real console script in a subprocess,
against the sandbox HubSpot server and the Slack stand-in, on the shared sample database.
A scan killed right after Slack took its DM is not posted twice by the next one."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.nudge_delivery import run_nudge_scan
from bot.runtime import BotRuntime
from sandbox.server import SandboxServer
from sandbox.slack_api import SlackStandIn
from storage.engine import session_scope
from storage.nudge_ledger import list_nudges
from storage.nudge_preferences import record_quiet_hours
from storage.timestamps import utc_now
from tests.bot.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.scheduler.conftest import LEASE_S, crm, nudges, runtime, slack  # noqa: F401 - fixtures
from tests.skills.conftest import SKILL_TOKEN

JOURNEYBOT = shutil.which("journeybot", path=str(Path(sys.executable).parent))


def env_for(runtime: BotRuntime, **extra: str) -> dict[str, str]:  # noqa: F811
    s = runtime.settings
    base = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEYBOT_") and k != "DATABASE_URL"}
    return {**base, "DATABASE_URL": s.database_url, "JOURNEYBOT_DATA_DIR": str(s.data_dir),
            "JOURNEYBOT_EMBEDDING_MODEL_DIR": str(s.embedding_model_dir),
            "JOURNEYBOT_JOURNEY_MAP_PATH": str(s.journey_map_path),
            "JOURNEYBOT_HUBSPOT_ACCESS_TOKEN": SKILL_TOKEN, "JOURNEYBOT_HUBSPOT_BASE_URL": s.hubspot_base_url,
            "JOURNEYBOT_SLACK_BOT_TOKEN": BOT_TOKEN, "JOURNEYBOT_SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "JOURNEYBOT_SLACK_API_BASE_URL": s.slack_api_base_url, "JOURNEYBOT_LOG_LEVEL": "WARNING", **extra}


def scan(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    assert JOURNEYBOT, "the console script is installed with the package"
    return subprocess.run([JOURNEYBOT, "nudges", "scan", *args], env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def test_scan_by_hand_then_a_killed_scan_posts_once(nudges: BotRuntime, slack: SlackStandIn,  # noqa: F811
                                                    crm: SandboxServer, tmp_path: Path) -> None:  # noqa: F811
    env = env_for(nudges)
    dry = scan(env, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["dry_run"] is True
    first = scan(env)
    assert first.returncode == 0, first.stderr
    assert "recorded the baseline" in first.stdout and "nobody is nudged" in first.stdout

    deal = next(d for d in crm.portal.objects["deals"].values() if d.properties.get("dealstage") == "contractsent"
                and d.properties.get("hubspot_owner_id"))
    owner = next(o for o in crm.portal.owners if str(o.id) == deal.properties["hubspot_owner_id"])
    slack.users_by_email[owner.email] = "U0KILLED"
    with session_scope(nudges.knowledge.engine) as session:  # the test runs at any hour: no quiet hours for this rep
        record_quiet_hours(session, "U0KILLED", 0, 0)
    crm.update_objects("deals", [deal.id], {"dealstage": "decisionmakerboughtin"})
    preview = scan(env, "--dry-run")
    assert preview.returncode == 0 and f"would send: {deal.properties['dealname']}" in preview.stdout

    slack.latency["chat.postMessage"] = 60.0  # Slack keeps the DM; the reply never reaches the process
    process = subprocess.Popen([str(JOURNEYBOT), "nudges", "scan"], env=env, stdout=subprocess.DEVNULL,
                               stderr=(tmp_path / "scan.log").open("w"))
    try:
        slack.wait_for(lambda calls: any(c["method"] == "chat.postMessage" for c in calls), timeout=60)
        time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    slack.latency.clear()
    with session_scope(nudges.knowledge.engine) as session:
        assert [e.state for e in list_nudges(session, str(deal.id))] == ["posting"]
    start = utc_now()
    report = run_nudge_scan(nudges, now=lambda: start + dt.timedelta(seconds=LEASE_S + 60))
    assert [o.status for o in report.outcomes] == ["recovered"]
    assert len([c for c in slack.of("chat.postMessage") if c["params"]["channel"] == "D0KILLED"]) == 1
    again = scan(env)
    assert again.returncode == 0 and "posted" not in again.stdout


def test_a_missing_token_is_one_line(nudges: BotRuntime) -> None:
    env = env_for(nudges)
    del env["JOURNEYBOT_HUBSPOT_ACCESS_TOKEN"]
    done = scan(env)
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [
        "JOURNEYBOT_HUBSPOT_ACCESS_TOKEN is not set: nudges watch HubSpot deals (see docs/hubspot.md)"]
    env = env_for(nudges)
    del env["JOURNEYBOT_SLACK_BOT_TOKEN"]
    done = scan(env)
    assert done.returncode == 2 and "JOURNEYBOT_SLACK_BOT_TOKEN" in done.stderr and len(done.stderr.strip().splitlines()) == 1
