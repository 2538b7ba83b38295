"""`digest --dry-run` and `churn --dry-run` against a sandbox, as the lead registers them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.schedule_commands import register_schedule_commands
from cli.skill_commands import register_skill_commands
from config import load_settings
from sandbox.generator import generate_portal
from sandbox.server import SandboxServer
from skills.builtin import default_registry

TOKEN = "cli-schedule-token"

app = typer.Typer()
register_skill_commands(app, default_registry(), skip=frozenset({"ask", "churn"}))
register_schedule_commands(app)


PORTAL = generate_portal(3)
OWNER = str(PORTAL.owners[0].id)  # one owner's book keeps the churn runs fast (and exercises the scope)


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(PORTAL, token=TOKEN, rate_limit=None) as srv:
        yield srv


@pytest.fixture
def runner(tmp_path: Path, model_dir: Path, server: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "JOURNEYBOT_DATABASE_URL", "JOURNEYBOT_CHROMA_HOST", "JOURNEYBOT_LLM_PROVIDER",
                 "JOURNEYBOT_JOURNEY_MAP_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JOURNEYBOT_DATA_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("JOURNEYBOT_EMBEDDING_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("JOURNEYBOT_HUBSPOT_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("JOURNEYBOT_HUBSPOT_BASE_URL", server.base_url)
    return CliRunner()


def test_digest_dry_run(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["digest", "--dry-run", "--json", "--pipeline", "Sales Pipeline", "--out", "preview"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    chart = Path(payload["chart_path"])
    assert payload["dry_run"] and chart.exists() and chart.parent == tmp_path / "preview"
    assert payload["message"]["files"] == [str(chart)]
    assert "stage_conversion" in payload["report"]["pipelines"][0]["totals"]
    body = json.dumps(payload["message"]["blocks"])
    assert "Cycle, created to won" in body and "Pipeline created vs won" in body and "@" not in body
    text = runner.invoke(app, ["digest", "--dry-run"])
    assert text.exit_code == 0 and "Stage conversion" in text.stdout
    assert "Chart: add --out DIR to write it" in text.stdout  # without --out, no file
    assert [p.name for p in tmp_path.rglob("*.png")] == [chart.name]
    assert not (tmp_path / "state" / "reports").exists()
    assert runner.invoke(app, ["digest"]).exit_code == 2
    bad = runner.invoke(app, ["digest", "--dry-run", "--out", str(chart)])
    assert bad.exit_code == 2 and bad.output.strip().startswith("--out: ") and len(bad.output.strip().splitlines()) == 1


def test_churn_dry_run_respects_the_ledger(runner: CliRunner) -> None:
    args = ["--min_severity", "medium", "--owner", OWNER]
    first = runner.invoke(app, ["churn", "--dry-run", "--json", *args])
    assert first.exit_code == 0, first.output
    payload = json.loads(first.stdout)
    assert payload["cooldown_days"] == 14 and len(payload["would_alert"]) >= 3 and not payload["skipped"]
    assert payload["owner"] and all(f["owner_id"] == OWNER for f in payload["would_alert"])
    assert all(f["severity"] in ("medium", "high") and f["reason"] == "new" for f in payload["would_alert"])
    assert len(payload["messages"]) == 1
    from sqlmodel import select

    from skills.churn import ChurnFinding
    from skills.churn_alerts import record_alerts_sent
    from storage.churn_ledger import AlertSent, record_churn_response
    from storage.engine import make_engine, session_scope

    top = payload["would_alert"][0]
    engine = make_engine(load_settings().database_url)
    with session_scope(engine) as session:
        assert list(session.exec(select(AlertSent))) == []  # a dry run records nothing
        record_churn_response(session, top["company_id"], top["rule"], "ack", user="U0CSM")
        rest = payload["would_alert"][1]
        record_alerts_sent(session, [ChurnFinding(rest["company_id"], rest["account"], rest["rule"], rest["severity"],
                                                  rest["behaviour"], rest["owner_id"], rest["owner"], None)],
                           dt_now(payload["now"]))
    engine.dispose()
    after = json.loads(runner.invoke(app, ["churn", "--dry-run", "--json", "--per-finding", *args]).stdout)
    skipped = {(s["company_id"], s["rule"]): s["reason"] for s in after["skipped"]}
    assert skipped[(top["company_id"], top["rule"])].startswith("acknowledged by U0CSM")
    assert skipped[(rest["company_id"], rest["rule"])].startswith("cooldown")
    assert len(after["messages"]) == len(after["would_alert"]) == len(payload["would_alert"]) - 2

    plain = runner.invoke(app, ["churn", "--json", *args])  # without --dry-run: the ordinary skill
    assert plain.exit_code == 0 and len(json.loads(plain.stdout)["findings"]) == len(payload["would_alert"])


def dt_now(text: str):  # type: ignore[no-untyped-def]
    import datetime as dt

    return dt.datetime.fromisoformat(text)


def test_churn_dry_run_for_a_channel_matches_what_the_scheduler_would_post_there(runner: CliRunner) -> None:
    """--channel: that channel's subscription filters and that channel's alert ledger."""
    from skills.churn import ChurnFinding
    from skills.churn_alerts import record_alerts_sent
    from storage.engine import make_engine, session_scope
    from storage.subscriptions import add_subscription

    everywhere = json.loads(runner.invoke(app, ["churn", "--dry-run", "--json", "--min_severity", "high"]).stdout)
    engine = make_engine(load_settings().database_url)  # migrated by the command above
    with session_scope(engine) as session:
        add_subscription(session, channel_id="C0CSDRY", kind="churn", cron="0 8 * * *", timezone="UTC",
                         filters={"min_severity": "high"}, created_by="U0ADMIN")
    there = json.loads(runner.invoke(app, ["churn", "--dry-run", "--json", "--channel", "C0CSDRY"]).stdout)
    assert there["min_severity"] == "high" and there["would_alert"] == everywhere["would_alert"]
    first = there["would_alert"][0]
    with session_scope(engine) as session:  # alerted in that channel only
        record_alerts_sent(session, [ChurnFinding(first["company_id"], first["account"], first["rule"], first["severity"],
                                                  first["behaviour"], first["owner_id"], first["owner"], None)],
                           dt_now(there["now"]), scope="C0CSDRY")
    engine.dispose()
    again = json.loads(runner.invoke(app, ["churn", "--dry-run", "--json", "--channel", "C0CSDRY"]).stdout)
    elsewhere = json.loads(runner.invoke(app, ["churn", "--dry-run", "--json", "--channel", "C0OTHERCS",
                                               "--min_severity", "high"]).stdout)
    assert (first["company_id"], first["rule"]) in {(s["company_id"], s["rule"]) for s in again["skipped"]}
    assert len(elsewhere["would_alert"]) == len(everywhere["would_alert"])  # another channel's ledger is its own


def test_subscribe_help_shows_the_schedule_grammar_of_every_kind() -> None:
    """The grammar in `journeybot subscribe --help` is checked against the skills'
    declared schedules, so a new kind, default or filter cannot go unmentioned."""
    from cli.app import app
    from skills.schedules import describe, schedulable

    shown = " ".join(CliRunner().invoke(app, ["subscribe", "--help"], env={"COLUMNS": "200"}).output.split())
    assert "weekly mon..sun" in shown and "monthly 1-28" in shown and "[Area/City]" in shown
    for kind, (_, schedule) in schedulable().items():
        default = describe(kind, schedule.cron, "UTC").removesuffix(" UTC").removeprefix(kind + " ")
        assert f"{kind} (or {', '.join(schedule.aliases)}): default {default}" in shown, kind
        for name in schedule.filters:
            assert f"--{name}" in shown, (kind, name)
