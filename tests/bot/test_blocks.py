"""Block Kit rendering of every skill result, built from real results (the indexed sample
map, a sandbox CRM portal) plus synthetic huge ones: every message serialises, stays
within Slack's limits, uses the id constants, links sources, names stages by label and
never carries an email address or phone number."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from bot import ids
from bot.blocks import (
    render_clarify,
    render_error,
    render_help,
    render_home,
    render_progress,
    render_refusal,
    render_result,
)
from bot.blocks.common import scrub, split_text
from bot.button_values import SentRef
from bot.message import MAX_BLOCKS, MAX_SECTION_CHARS, SlackMessage
from config import Settings
from knowledge.answers import OTHER_STAGES, Answer
from skills.account import AccountChoices, AccountReadiness, run_account
from skills.account_lookup import Candidate
from skills.builtin import default_registry
from skills.churn import ChurnFinding, ChurnReport, playbook_for, run_churn
from skills.context import SkillContext
from skills.coverage import Match
from skills.deal import DealChoices, DealContent, run_deal
from skills.gap_report import GapReport, SlackQuestion
from skills.gaps import run_gaps
from skills.velocity import run_velocity
from skills.velocity_report import VelocityReport
from tests.skills.account_fixtures import (  # noqa: F401 (module fixtures used by name)
    EMAIL,
    NOW,
    PHONE,
    PLANTED_NAME,
    planted_portal,
    skill_ctx,
    skill_server,
)

ACTION_IDS = {ids.FEEDBACK_UP, ids.FEEDBACK_DOWN, ids.SHARE, ids.SHOW_MORE, ids.PICK_CHOICE, ids.CHURN_ACK,
              ids.CHURN_SNOOZE, ids.SENT_IT, *ids.OTHER_STAGE}
CRM_STAGE_IDS = ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
                 "contractsent", "closedwon", "closedlost")
LINK = re.compile(r"<https?://[^|>]+\|[^>]+>")


def _texts(value: object, key: str = "") -> list[str]:
    """Human-visible strings of a payload (not ids, values or URLs)."""
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in _texts(v, k)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v, key)]
    return [value] if isinstance(value, str) and key == "text" else []


def check(message: SlackMessage) -> list[dict[str, Any]]:
    """Slack's limits and our invariants; returns the payload for further assertions."""
    payload = message.payload_blocks()
    dumped = json.dumps(payload)
    assert 0 < len(payload) <= MAX_BLOCKS
    assert message.text.strip() and len(message.text) <= 3000
    block_ids = [b["block_id"] for b in payload if "block_id" in b]
    assert len(block_ids) == len(set(block_ids))
    for block in payload:
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= MAX_SECTION_CHARS
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        elements = block.get("elements", []) if block["type"] == "actions" else []
        if "accessory" in block:
            elements = [block["accessory"]]
        assert len(elements) <= 25
        action_ids = [e["action_id"] for e in elements]
        assert len(action_ids) == len(set(action_ids)), "action ids must be unique within a block"
        for e in elements:
            assert e["action_id"] in ACTION_IDS
            assert len(e["text"]["text"]) <= 75 and len(e.get("value", "")) <= 2000
    for text in (dumped, message.text):
        assert not EMAIL.search(text) and not PHONE.search(text), text
    visible = " ".join(_texts(payload)) + message.text
    assert not any(stage in visible for stage in CRM_STAGE_IDS)
    return payload


def buttons(payload: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = [e for b in payload if b["type"] == "actions" for e in b["elements"]]
    return out + [b["accessory"] for b in payload if "accessory" in b]


# --- knowledge results ------------------------------------------------------------------


@pytest.fixture(scope="module")
def answer(sample_service: Any) -> Answer:
    result = sample_service.asker.ask("CFO keeps asking about ROI, what do I send?")
    assert isinstance(result, Answer) and result.sources
    return result


def test_answer_links_sources_and_feedback(answer: Answer) -> None:
    message = render_result("ask", answer, log_id=42)
    payload = check(message)
    body = " ".join(_texts(payload))
    for source in answer.sources:
        assert f"<{source.url}|" in body
    assert LINK.search(body)
    assert answer.stage_name and answer.stage_name in body
    got = {b["action_id"]: b["value"] for b in buttons(payload) if b["action_id"] not in ids.OTHER_STAGE}
    assert got == {ids.FEEDBACK_UP: "42", ids.FEEDBACK_DOWN: "42"}
    assert any(b.get("block_id") == ids.FEEDBACK_BLOCK for b in payload)


def test_answer_share_only_when_ephemeral(answer: Answer) -> None:
    assert {b["action_id"] for b in buttons(check(render_result("ask", answer)))} <= set(ids.OTHER_STAGE)
    message = render_result("ask", answer, log_id=7, ephemeral=True)
    shared = {b["action_id"]: b["value"] for b in buttons(check(message))}
    assert shared[ids.SHARE] == "ask|7"


def test_an_inferred_stage_offers_the_next_likeliest_stages(answer: Answer, sample_service: Any) -> None:
    from bot.button_values import RunRef

    assert answer.stage_how == "inferred" and len(answer.other_stages) == OTHER_STAGES <= len(ids.OTHER_STAGE)
    assert answer.stage_id not in {o.id for o in answer.other_stages}
    payload = check(render_result("ask", answer, log_id=7, ephemeral=True))
    offered = [b for b in buttons(payload) if b["action_id"] in ids.OTHER_STAGE]
    assert [b["text"]["text"] for b in offered] == [f"Answer for {o.name}" for o in answer.other_stages]
    ref = RunRef.decode(offered[0]["value"])
    assert ref.skill == "ask" and ref.ref.endswith(f"--stage {answer.other_stages[0].id} --persona {answer.persona_id}")
    rambling = dataclasses.replace(answer, question="what do I send " * 200)
    assert not [b for b in buttons(check(render_result("ask", rambling))) if b["action_id"] in ids.OTHER_STAGE]
    named = sample_service.asker.ask("what does the decision stage mean for IT?")
    assert named.stage_how == "named" and named.other_stages == []  # a stage the rep named is not second-guessed
    assert not [b for b in buttons(check(render_result("ask", named))) if b["action_id"] in ids.OTHER_STAGE]


def test_titles_are_escaped_and_long_answers_split(answer: Answer) -> None:
    source = dataclasses.replace(answer.sources[0], title="P&L <draft> for CFO")
    points = "\n".join(f"• point {n} " + "x" * 200 for n in range(60))
    long_text = answer.text.replace(answer.sources[0].title, source.title) + "\n" + points
    long = dataclasses.replace(answer, sources=[source, *answer.sources[1:]], text=long_text)
    payload = check(render_result("ask", long))
    body = " ".join(_texts(payload))
    assert "P&amp;L &lt;draft&gt; for CFO" in body
    assert sum(b["type"] == "section" for b in payload) >= 5


@pytest.fixture(scope="module")
def gap_report(sample_service: Any, tmp_path_factory: pytest.TempPathFactory) -> GapReport:
    settings = Settings.from_mapping({**sample_service.settings.model_dump(),
                                      "data_dir": tmp_path_factory.mktemp("blocks-gaps")})
    return run_gaps(SkillContext(settings, sample_service, clock=lambda: NOW,  # shares the session's embedder
                                 reports_dir=settings.reports_dir))


def test_gaps_real_report_attaches_heatmap(gap_report: GapReport) -> None:
    message = render_result("gaps", gap_report)
    payload = check(message)
    assert gap_report.heatmap_path and gap_report.csv_path
    assert message.files == [gap_report.heatmap_path, gap_report.csv_path]  # the chart, and the table behind it
    body = " ".join(_texts(payload))
    assert all(g.stage_name in body for g in gap_report.stages if g.has_gaps)
    assert "technical-evaluator" not in body


def test_huge_gaps_is_truncated_with_show_more(gap_report: GapReport) -> None:
    base = next(g for g in gap_report.stages if g.unanswered)
    many = tuple(Match(stage_id=base.stage_id, question_id=f"q{n}", text=f"Question number {n}?", personas=(), answered="none",
                       asset_ids=()) for n in range(500))
    stages = tuple(dataclasses.replace(base, rank=n + 1, unanswered=many) for n in range(80))
    slack = tuple(SlackQuestion(question=f"Asked thing {n}?", last_asked=dt.datetime(2026, 1, 1), times_asked=1,
                                stage_id=base.stage_id, persona_id=None, channel="C1")
                  for n in range(500))
    huge = dataclasses.replace(gap_report, stages=stages, slack_questions=slack, heatmap_path=None)
    payload = check(render_result("gaps", huge))
    body = " ".join(_texts(payload))
    assert "more: *Show more*, or all of them with `journeybot gaps --json` on the command line" in body
    more = [b for b in buttons(payload) if b["action_id"] == ids.SHOW_MORE]
    assert len(more) == 1
    skill, offset, ref = more[0]["value"].split("|")
    assert skill == "gaps" and 0 < int(offset) < 80 and ref == "--stale_months 12"
    page = check(render_result("gaps", huge, offset=int(offset)))
    assert any(b["action_id"] == ids.SHOW_MORE for b in buttons(page)) or int(offset) + 48 >= 80


# --- CRM results ----------------------------------------------------------------------


def test_account_readiness(skill_ctx: SkillContext) -> None:
    result = run_account(skill_ctx, PLANTED_NAME)
    assert isinstance(result, AccountReadiness)
    payload = check(render_result("account", result, ephemeral=True))
    body = " ".join(_texts(payload))
    assert PLANTED_NAME in body and LINK.search(body)
    assert result.open_deals[0].stage_label in body
    share = [b for b in buttons(payload) if b["action_id"] == ids.SHARE]
    assert share[0]["value"] == f"account|{result.company_id}"
    assert not buttons(check(render_result("account", result)))


def test_deal_content(skill_ctx: SkillContext) -> None:
    result = run_deal(skill_ctx, "Quasar Platform rollout")
    assert isinstance(result, DealContent) and result.journey_stage_name
    payload = check(render_result("deal", result))
    body = " ".join(_texts(payload))
    assert result.deal.stage_label in body and result.journey_stage_name in body and LINK.search(body)
    sent = [SentRef.decode(b["value"]) for b in buttons(payload) if b["action_id"] == ids.SENT_IT]
    assert sorted(r.asset_id for r in sent) == sorted(a.id for p in result.personas for a in p.assets)
    entered = result.deal.stage_entered_at
    assert entered is not None and {(r.deal_id, r.stage_id, r.entered_ms) for r in sent} == {
        (result.deal.id, result.deal.stage_id, int(entered.timestamp() * 1000))}


def test_choices_render_as_clarifying_buttons() -> None:
    candidates = [Candidate(str(100 + n), f"Acme {n}", f"acme{n}.example.com", 90.0) for n in range(8)]
    for skill, result in (("account", AccountChoices("acme", candidates, 12, "12 companies match 'acme'; which one?")),
                          ("deal", DealChoices("acme", candidates, 8, "8 deals match 'acme'; which one?"))):
        payload = check(render_result(skill, result))
        picks = [b for b in buttons(payload) if b["action_id"] == ids.PICK_CHOICE]
        assert [p["value"] for p in picks] == [f"{skill}|{c.id}" for c in candidates]


def test_velocity(skill_ctx: SkillContext, tmp_path: Path) -> None:
    result = run_velocity(dataclasses.replace(skill_ctx, reports_dir=tmp_path))
    assert isinstance(result, VelocityReport)
    message = render_result("velocity", result, ephemeral=True)
    assert "[redacted]" not in json.dumps(message.payload_blocks())  # figures are not phone numbers
    payload = check(message)
    body = " ".join(_texts(payload))
    labels = [s.label for p in result.pipelines for s in p.stages]
    assert labels and all(label in body for label in labels)
    assert result.chart_path is not None and message.files == [result.chart_path]  # the digest chart is attached
    assert "Cycle, created to won" in body and "Stage conversion" in body and "Pipeline created vs won" in body
    more = [b["value"] for b in buttons(payload) if b["action_id"] == ids.SHOW_MORE]
    if any(len(p.stalled) > 10 for p in result.pipelines):
        assert more and more[0].startswith("velocity|10|")
        assert "stalled deals: *Show more*, or all of them with `journeybot velocity --json`" in body
        check(render_result("velocity", result, offset=10))


def test_churn_real_and_buttons(skill_ctx: SkillContext) -> None:
    owner = skill_ctx.gateway.owners()[0]
    result = run_churn(skill_ctx, owner=owner.id)  # one owner's book keeps the test fast
    assert isinstance(result, ChurnReport) and result.findings
    payload = check(render_result("churn", result))
    acks = [b["value"] for b in buttons(payload) if b["action_id"] == ids.CHURN_ACK]
    snoozes = [b["value"] for b in buttons(payload) if b["action_id"] == ids.CHURN_SNOOZE]
    assert acks == snoozes
    assert acks[: len(result.findings)] == [f"{f.company_id}|{f.rule}" for f in result.findings][: len(acks)]


def test_huge_churn_is_truncated_and_scrubbed(sample_service: Any) -> None:
    journey_map = sample_service.live.current().journey_map
    play = playbook_for(journey_map, "silence")
    findings = tuple(
        ChurnFinding(str(n), f"Account {n}", "silence", "medium",
                     f"no logged engagement for 40 days; call pat{n}@planted.example.com or +1 555 000 1111",
                     "7", "Ava Adams", play) for n in range(500))
    report = ChurnReport(NOW, "low", "Ava Adams", 600, ("silence",), findings)
    payload = check(render_result("churn", report, ephemeral=True))
    body = " ".join(_texts(payload))
    assert "more findings: *Show more*, or all of them with `journeybot churn --json` on the command line" in body
    values = {b["action_id"]: b["value"] for b in buttons(payload) if b["action_id"] in (ids.SHOW_MORE, ids.SHARE)}
    skill, offset, ref = values[ids.SHOW_MORE].split("|")
    assert skill == "churn" and 0 < int(offset) < 500 and ref == "--min_severity low --owner 'Ava Adams'"
    assert values[ids.SHARE] == f"churn|{ref}"
    assert "[redacted]" in body
    check(render_result("churn", report, offset=490))


# --- the bot's own messages -----------------------------------------------------------


def test_scrub_removes_emails_and_phones() -> None:
    text = "Mail jo.ann+x@corp.example.co.uk, call +44 20 7946 0958 or (555) 123-4567 or 555.123.4567 by 2025-06-04."
    clean = scrub(text)
    assert not EMAIL.search(clean) and not PHONE.search(clean)
    assert "2025-06-04" in clean and clean.count("[redacted]") == 4


def test_scrub_leaves_figures_side_by_side_alone() -> None:
    """Changes and counts in a table (as velocity and the digest lay them out) are figures,
    not phone numbers; real numbers in the same text still go."""
    table = "\n".join([
        "Stage              Days in stage  Target      Conversion  Deals",
        "Research          12.0d (+0.2)      18     40% (+5)      120",
        "Evaluation        31.5d (-1.5)      21     55% (-12)      18",
        "Decision           9.0d (+10.0)     14    100% (+100)   1234",
        "Won $1,234,567 (+12.5%) · +3 deals · 2026-W47 · 2026-11-25 · +15 · (+0.2)     18 · 555 12 · +1.5 vs +2",
    ])
    assert scrub(table) == table
    mixed = table + "\ncall +1 555 000 1111 or +44 20 7946 0958 or (555) 123-4567"
    assert scrub(mixed) == table + "\ncall [redacted] or [redacted] or [redacted]"


def test_split_text_keeps_everything_within_limit() -> None:
    text = "\n".join("word " * 300 for _ in range(10)) + "\n" + "y" * 7000
    chunks = split_text(text)
    assert all(len(c) <= MAX_SECTION_CHARS for c in chunks)
    assert "".join(chunks).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(" ", "")


def test_errors_refusal_progress_help_clarify() -> None:
    error = check(render_error("HubSpot said no (ask admin@corp.example.com)", "err-123"))
    assert "err-123" in json.dumps(error)
    check(render_refusal("account", "Ask a workspace admin to add this channel with `/journey config crm on`."))
    check(render_progress("gaps", "auditing 42 buyer questions…"))
    payload = check(render_help(default_registry()))
    assert all(f"/journey {name}" in json.dumps(payload) for name in default_registry().skills)
    options = [(f"Option {n} " + "z" * 100, f"ask|question {n}") for n in range(60)]
    clarify = check(render_clarify("Which one?", options))
    assert all(b["action_id"] == ids.PICK_CHOICE for b in buttons(clarify))


def test_home(sample_service: Any) -> None:
    journey_map = sample_service.live.current().journey_map
    blocks: list[Block] = render_home(journey_map, ["What does Consideration mean?"], [("C123", "gaps", "0 9 1 * *")])
    payload = check(SlackMessage(text="home", blocks=blocks))
    body = " ".join(_texts(payload))
    assert all(s.name in body and f"target {s.target_days_in_stage:g} days" in body for s in journey_map.stages)
    assert "<#C123>" in body and "What does Consideration mean?" in body
    assert check(SlackMessage(text="home", blocks=render_home(journey_map, [], [])))


def test_unknown_result_falls_back_to_json(tmp_path: Path) -> None:
    @dataclasses.dataclass
    class Other:
        value: str

        def to_dict(self) -> dict[str, str]:
            return {"value": self.value}

    check(render_result("other", Other("x" * 50_000)))
