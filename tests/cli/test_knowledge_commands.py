"""The CLI end to end, with settings from the environment as a user would set them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app

MINI = Path(__file__).resolve().parent.parent / "data" / "mini_map.yaml"


@pytest.fixture
def runner(tmp_path: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "JOURNEYBOT_DATABASE_URL", "JOURNEYBOT_CHROMA_HOST", "JOURNEYBOT_LLM_PROVIDER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JOURNEYBOT_DATA_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("JOURNEYBOT_EMBEDDING_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("JOURNEYBOT_JOURNEY_MAP_PATH", str(MINI))
    return CliRunner()


def run_json(runner: CliRunner, *args: str) -> dict:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_validate(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0 and "valid" in result.output and "3 stages" in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text(MINI.read_text().replace("answers: [co-q02]", "answers: [co-q99]"))
    result = runner.invoke(app, ["validate", str(broken)])
    line = next(i + 1 for i, text in enumerate(broken.read_text().splitlines()) if "co-q99" in text)
    assert result.exit_code == 1
    assert f"broken.yaml:{line}: error: assets[2].answers[0]: unknown question 'co-q99'" in result.output
    result = runner.invoke(app, ["validate", str(broken), "--json"])
    payload = json.loads(result.stdout)
    assert result.exit_code == 1 and payload["valid"] is False
    assert payload["problems"][0] == {"file": str(broken), "line": line, "path": "assets[2].answers[0]",
                                      "message": payload["problems"][0]["message"], "severity": "error"}


def test_index_ask_stages_content(runner: CliRunner) -> None:
    report = run_json(runner, "index")
    assert report["units"] == 34 and report["embedded"] == 34 and report["unchanged"] is False  # 14 + 20 examples
    assert run_json(runner, "index")["unchanged"] is True

    answer = run_json(runner, "ask", "CFO wants to know the return on investment")
    assert answer["answered"] is True and answer["persona_id"] == "cfo"
    assert answer["sources"][0]["ref_id"] == "as-roi-calculator"
    assert set(answer["sources"][0]) == {"n", "kind", "ref_id", "title", "url", "why", "score"}
    assert {"question", "text", "confidence", "stage_id", "stage_name", "stage_how", "persona_name", "open_questions", "used_llm",
            "latency_ms", "note"} <= set(answer)

    text = runner.invoke(app, ["ask", "CFO wants to know the return on investment"])
    assert text.exit_code == 0 and "[1] ROI calculator — https://www.fieldline.example/roi" in text.output
    assert answer["stage_how"] == "inferred" and len(answer["other_stages"]) == 2  # every other stage of this map
    first, second = (f"--stage {o['id']}" for o in answer["other_stages"])
    assert f"Not {answer['stage_name']}? Ask again with {first} or {second}." in text.output

    stages = run_json(runner, "stages")
    assert [s["id"] for s in stages["stages"]] == ["awareness", "consideration", "decision"]
    assert stages["stages"][1]["questions"] == 2 and stages["stages"][1]["questions_answered"] == 1

    content = run_json(runner, "content", "--stage", "evalution", "--persona", "CFO")
    assert content["stage"] == "consideration" and content["persona"] == "cfo"
    assert [a["id"] for a in content["assets"]] == ["as-case-study"]


def test_unknown_stage_says_what_exists(runner: CliRunner) -> None:
    runner.invoke(app, ["index"])
    result = runner.invoke(app, ["content", "--stage", "procurment hell"])
    assert result.exit_code == 2
    assert "unknown stage 'procurment hell'" in result.output and "Known stages: Awareness, Consideration, Decision" in result.output


def test_ask_indexes_on_first_use(runner: CliRunner) -> None:
    answer = run_json(runner, "ask", "why do forecasts miss?")
    assert answer["answered"] and answer["sources"][0]["ref_id"] == "as-forecast-report"


def test_invalid_map_is_not_indexed(runner: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(MINI.read_text().replace("order: 3", "order: 1"))
    result = runner.invoke(app, ["index", "--map", str(broken)])
    assert result.exit_code == 1 and "stages out of order" in result.output and "last good index stays live" in result.output


def test_subscriptions_from_the_cli(runner: CliRunner) -> None:
    made = runner.invoke(app, ["subscribe", "C0LEADERS", "digest", "weekly", "mon", "09:00", "Europe/Berlin"])
    assert made.exit_code == 0 and "digest every Monday at 09:00 Europe/Berlin in C0LEADERS" in made.output
    listed = json.loads(runner.invoke(app, ["subscriptions", "--json"]).stdout)["subscriptions"]
    assert [(s["channel"], s["cron"], s["timezone"]) for s in listed] == [("C0LEADERS", "0 9 * * mon", "Europe/Berlin")]
    assert listed[0]["last_run"] is None and listed[0]["next_fire"].startswith("20")  # operators see when it fires next
    assert "not run yet" in runner.invoke(app, ["subscriptions"]).stdout
    assert runner.invoke(app, ["subscribe", "C0LEADERS", "digest", "Mars/Base"]).exit_code == 2
    assert runner.invoke(app, ["unsubscribe", str(listed[0]["id"])]).exit_code == 0
    assert runner.invoke(app, ["unsubscribe", str(listed[0]["id"])]).exit_code == 2
    assert "no subscriptions" in runner.invoke(app, ["subscriptions"]).stdout


def test_cli_subscribe_wants_a_channel_id_and_takes_filters(runner: CliRunner) -> None:
    named = runner.invoke(app, ["subscribe", "#leaders", "digest", "weekly"])
    assert named.exit_code == 2 and "not a Slack channel id" in named.output
    made = runner.invoke(app, ["subscribe", "C0LEADERS", "digest", "weekly", "tue", "--pipeline", "default"])
    assert made.exit_code == 0 and "digest every Tuesday at 09:00 UTC --pipeline default in C0LEADERS" in made.output
    assert [s["channel"] for s in json.loads(runner.invoke(app, ["subscriptions", "--json"]).stdout)["subscriptions"]] == [
        "C0LEADERS"]


def test_where_and_version(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://jb:hunter2@db.internal:5432/jb")
    where = runner.invoke(app, ["where", "--json"])
    assert where.exit_code == 0, where.output
    shown = json.loads(where.stdout)
    assert shown["data_dir"] == str(tmp_path / "state") and shown["database"] == "postgresql+psycopg://jb:***@db.internal:5432/jb"
    assert shown["map"] == str(MINI) and shown["index"] == str(tmp_path / "state" / "chroma")
    assert "hunter2" not in where.output
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0 and f"data dir {tmp_path / 'state'}" in version.stdout


def test_help_lists_the_lazy_commands_as_the_registry_has_them() -> None:
    """`--help` shows the skill commands without importing a skill: the list in cli.app
    must match the registry and cli.schedule_commands."""
    from cli.app import LAZY_HELP, _skill_commands

    built = _skill_commands()
    assert set(built) | {"slack", "nudges"} == set(LAZY_HELP)
    for name, command in built.items():
        assert (command.help or "").strip().splitlines()[0] == LAZY_HELP[name], name


def test_questions_record_where_they_were_asked(runner: CliRunner, tmp_path: Path) -> None:
    from sqlalchemy import text as sql

    from storage.engine import make_engine

    blank = runner.invoke(app, ["ask", "   "])
    assert blank.exit_code == 2 and "ask needs a question" in blank.output
    run_json(runner, "ask", "what is the capital of Mongolia?")
    with make_engine(f"sqlite:///{tmp_path / 'state' / 'journeybot.db'}").begin() as connection:
        rows = connection.execute(sql("SELECT question, source FROM question_log")).all()
        connection.execute(sql("UPDATE question_log SET answered = false"))  # as if the map had no answer
    assert [tuple(r) for r in rows] == [("what is the capital of Mongolia?", "cli")]
    gaps = runner.invoke(app, ["gaps"])
    assert gaps.exit_code == 0, gaps.output
    assert "Asked in the CLI, not answered by the map (1):" in gaps.stdout and "Asked in Slack" not in gaps.stdout


def test_tables_never_cut_urls(runner: CliRunner) -> None:
    from io import StringIO

    from rich.console import Console

    from cli.render import content_table
    from knowledge.catalog import content_for, resolve_stage
    from knowledge.validation import load_map

    journey_map = load_map(MINI).journey_map
    stage = resolve_stage(journey_map, "consideration")
    assets = content_for(journey_map, stage, None)
    for width in (60, 80, 120):
        buffer = StringIO()
        Console(file=buffer, width=width, soft_wrap=True).print(content_table(stage, None, assets))
        for asset in assets:
            assert str(asset.url) in buffer.getvalue(), (width, str(asset.url))


def test_route_shows_the_skill_and_the_dates_a_time_phrase_means(runner: CliRunner) -> None:
    data = run_json(runner, "route", "how did we do last week?")
    assert data["skill"] == "velocity"
    time = next(e for e in data["entities"] if e["type"] == "time")
    shown = runner.invoke(app, ["route", "how did we do last week?"])
    assert shown.exit_code == 0, shown.output
    assert f"time: “last week” → {time['start']} to {time['end']}" in shown.stdout
    assert "→ ?" not in shown.stdout


def test_route_shows_an_inferred_stage_only_for_the_map_q_and_a(runner: CliRunner) -> None:
    asked = run_json(runner, "route", "what should I send a CFO who worries about cost?")
    assert asked["skill"] == "ask" and asked["stage"] is not None and asked["persona"] is not None
    velocity = run_json(runner, "route", "how are we tracking this week?")
    assert velocity["skill"] == "velocity" and velocity["stage"] is None and velocity["persona"] is None
    gaps = run_json(runner, "route", "content gaps in the decision stage")
    assert (gaps["skill"], gaps["stage"]) == ("gaps", "decision")  # named: the skill can use it


def test_route_reads_no_persona_into_a_skill_s_own_name(runner: CliRunner) -> None:
    """In `account Acme` the word "account" is syntax, not the account executive."""
    data = run_json(runner, "route", "account Acme")
    assert (data["skill"], data["arguments"], data["persona"]) == ("account", {"account": "Acme"}, None)


def test_route_shows_no_title_cued_persona_for_a_skill_other_than_ask(runner: CliRunner) -> None:
    """"accounts" cues the account executive for the map Q&A; churn takes no persona from it."""
    data = run_json(runner, "route", "which accounts are showing churn risk?")
    assert (data["skill"], data["persona"]) == ("churn", None)
