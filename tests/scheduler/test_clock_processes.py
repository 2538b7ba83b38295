"""The Procfile's clock as real processes (`python -m scheduler`) on PostgreSQL, against
the sandbox CRM and the Slack stand-in: two clocks run, one leads; a deal moved in the
sandbox reaches its owner as one DM; the leader is killed (SIGKILL), the other clock takes
over within a tick, a restarted clock joins as a follower, and a second move is DMed once.
Nothing is posted twice, and every nudge ends recorded as posted (one the killed clock
posted but had not recorded is found in the DM after the lease)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from config import Settings
from config.settings import SAMPLE_MAP
from knowledge.service import KnowledgeService
from sandbox.server import SandboxServer
from sandbox.slack_api import SlackStandIn
from storage.deal_stage_watch import fetch_watch_state
from storage.engine import make_engine, session_scope
from storage.migrate import upgrade_database
from storage.nudge_ledger import list_nudges
from storage.nudge_preferences import record_quiet_hours
from tests.skills.conftest import SKILL_TOKEN

ROOT = Path(__file__).resolve().parents[2]


class Clocks:
    """`python -m scheduler` processes sharing one environment, each logging to a file."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        self.running[name] = subprocess.Popen([sys.executable, "-m", "scheduler"], cwd=ROOT, env=self.env,
                                              stdout=log, stderr=subprocess.STDOUT)

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def leader(self, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            leading = [n for n, p in self.running.items() if p.poll() is None and "is the leader" in self.log(n)]
            if leading:
                return leading[-1]
            time.sleep(0.2)
        raise AssertionError({n: self.log(n)[-2000:] for n in self.running})

    def wait_log(self, name: str, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log(name):
            if time.monotonic() > deadline:
                raise AssertionError(f"{name!r} never logged {text!r}: {self.log(name)[-2000:]}")
            time.sleep(0.2)

    def kill(self, name: str) -> None:
        self.running[name].send_signal(signal.SIGKILL)
        self.running[name].wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.terminate()
        for process in self.running.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def _deal_in(crm: SandboxServer, stage: str, skip_owners: set[str]) -> Any:
    return next(d for d in crm.portal.objects["deals"].values()
                if d.properties.get("dealstage") == stage and d.properties.get("hubspot_owner_id")
                and d.properties["hubspot_owner_id"] not in skip_owners)


def _dms(slack: SlackStandIn, channel: str) -> list[dict[str, Any]]:
    return [c for c in slack.of("chat.postMessage") if c["params"].get("channel") == channel]


def test_two_clock_processes_a_kill_and_a_restart_dm_each_move_once(
        postgres_url: str, model_dir: Path, tmp_path: Path, crm: SandboxServer, slack: SlackStandIn) -> None:
    settings = Settings.from_mapping({"data_dir": tmp_path / "data", "database_url": postgres_url,
                                      "embedding_model_dir": model_dir, "journey_map_path": SAMPLE_MAP})
    engine = make_engine(postgres_url)
    upgrade_database(engine)
    KnowledgeService(settings, engine=engine).index()  # the release step, before the clocks start
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("JOURNEYBOT_") and k != "DATABASE_URL"},
           "DATABASE_URL": postgres_url, "JOURNEYBOT_DATA_DIR": str(settings.data_dir),
           "JOURNEYBOT_EMBEDDING_MODEL_DIR": str(model_dir), "JOURNEYBOT_JOURNEY_MAP_PATH": str(SAMPLE_MAP),
           "JOURNEYBOT_SLACK_BOT_TOKEN": "xoxb-clock-test", "JOURNEYBOT_SLACK_API_BASE_URL": slack.base_url,
           "JOURNEYBOT_HUBSPOT_ACCESS_TOKEN": SKILL_TOKEN, "JOURNEYBOT_HUBSPOT_BASE_URL": crm.base_url,
           "JOURNEYBOT_NUDGE_INTERVAL_MIN": "0.02", "JOURNEYBOT_SCHEDULER_TICK_S": "1",
           "JOURNEYBOT_SCHEDULER_LEASE_S": "10",
           "JOURNEYBOT_LOG_LEVEL": "INFO", "PYTHONPATH": str(ROOT)}
    first = _deal_in(crm, "qualifiedtobuy", set())
    second = _deal_in(crm, "qualifiedtobuy", {first.properties["hubspot_owner_id"]})
    for deal, user in ((first, "U0REPONE"), (second, "U0REPTWO")):
        owner = next(o for o in crm.portal.owners if str(o.id) == deal.properties["hubspot_owner_id"])
        slack.users_by_email[owner.email] = user
        with session_scope(engine) as session:  # the test runs at any hour: no quiet hours for these reps
            record_quiet_hours(session, user, 0, 0)

    clocks = Clocks(env, tmp_path)
    try:
        clocks.start("a")
        clocks.start("b")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # the leader's first scan records the baseline
            with session_scope(engine) as session:
                if fetch_watch_state(session) is not None:
                    break
            time.sleep(0.3)
        else:
            raise AssertionError({n: clocks.log(n)[-2000:] for n in ("a", "b")})
        leader = clocks.leader()
        follower = "b" if leader == "a" else "a"
        clocks.wait_log(follower, "waits: another clock leads")

        crm.move_deal(first.id, "presentationscheduled")
        slack.wait_for(lambda calls: any(c["params"].get("channel") == "D0REPONE" for c in calls
                                         if c["method"] == "chat.postMessage"), timeout=60)

        clocks.kill(leader)  # its advisory lock goes with its connection
        assert clocks.leader() == follower  # within a tick
        clocks.start("c")  # a restart
        crm.move_deal(second.id, "presentationscheduled")
        slack.wait_for(lambda calls: any(c["params"].get("channel") == "D0REPTWO" for c in calls
                                         if c["method"] == "chat.postMessage"), timeout=60)
        # The kill may have come between the first DM and its record: that claim is taken
        # over after the lease (10 s here), found in the DM, and recorded, not posted again.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _states(engine, first, second) != [[("entered", "posted")]] * 2:
            time.sleep(0.5)
        clocks.wait_log("c", "waits: another clock leads")  # the restart joins as a follower
    finally:
        clocks.stop_all()
    assert _states(engine, first, second) == [[("entered", "posted")]] * 2
    assert len(_dms(slack, "D0REPONE")) == 1 and len(_dms(slack, "D0REPTWO")) == 1
    assert len(slack.of("chat.postMessage")) == 2
    engine.dispose()


def _states(engine: Any, *deals: Any) -> list[list[tuple[str, str]]]:
    with session_scope(engine) as session:
        return [[(e.kind, e.state) for e in list_nudges(session, str(d.id))] for d in deals]
