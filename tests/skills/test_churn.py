"""`churn` against a real sandbox with planted customers: the planted risks are found with the
right rule, severity, owner and playbook, healthy accounts stay quiet, and every finding on
the generated data is backed by the raw records."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator

import pytest

from cli.text.churn import render
from sandbox.generator import generate_portal
from sandbox.model import Portal, PortalSize
from sandbox.server import SandboxServer
from skills.churn import SKILL, ChurnReport, run_churn
from skills.context import SkillContext
from skills.registry import Registry, SkillInputError
from tests.skills.conftest import DAY_MS, SKILL_NOW, SKILL_TOKEN, add_object, link, ms

NOW_MS = ms(SKILL_NOW)
TODAY = SKILL_NOW.date()
ONBOARDING = "Planted Onboarding Co"
HEALTHY = "Planted Healthy Co"
RENEWING = "Planted Renewal Co"
UNHAPPY = "Planted Unhappy Co"
CONTACT_ONLY = "Planted Quietcompany Co"  # recent activity logged on its contact only


def _date(days_from_today: int) -> str:
    return (TODAY + dt.timedelta(days=days_from_today)).isoformat()


def _customer(portal: Portal, name: str, owner_id: int, **cs: str) -> int:
    props: dict[str, str | int] = {"name": name, "domain": f"{name.split()[1].lower()}.example.com",
                                   "lifecyclestage": "customer", "hubspot_owner_id": str(owner_id), **cs}
    return add_object(portal, "companies", props, NOW_MS - 500 * DAY_MS).id


def _contact(portal: Portal, company: int, title: str, role: str) -> int:
    props: dict[str, str | int] = {"firstname": "Pat", "lastname": "Planted", "jobtitle": title,
                                   "hs_buying_role": role, "email": "pat@planted.example.com",
                                   "phone": "+1 555 000 1111", "associatedcompanyid": str(company),
                                   "lifecyclestage": "customer", "lastmodifieddate": NOW_MS - DAY_MS}
    cid = add_object(portal, "contacts", props, NOW_MS - 400 * DAY_MS).id
    link(portal, "contacts", cid, "companies", company)
    return cid


def _touch(portal: Portal, company: int | None, kind: str, days_ago: int, people: list[int]) -> None:
    title = {"meetings": "hs_meeting_title", "calls": "hs_call_title", "emails": "hs_email_subject"}[kind]
    stamp = NOW_MS - days_ago * DAY_MS
    eid = add_object(portal, kind, {"hs_timestamp": stamp, "hubspot_owner_id": str(portal.owners[0].id),
                                    title: "Planted touch"}, stamp).id
    if company is not None:
        link(portal, "companies", company, kind, eid)
    for person in people:
        link(portal, kind, eid, "contacts", person)


@pytest.fixture(scope="module")
def portal() -> Portal:
    portal = generate_portal(31, PortalSize(companies=90, contacts=600, deals=260, engagements=3000), now=SKILL_NOW)
    o1, o2 = portal.owners[1].id, portal.owners[2].id
    a = _customer(portal, ONBOARDING, o1, jb_onboarding_start_date=_date(-40), jb_renewal_date=_date(325),
                  jb_nps_score="8", jb_open_escalations="0")
    b = _customer(portal, HEALTHY, o2, jb_onboarding_start_date=_date(-300), jb_first_value_date=_date(-280),
                  jb_business_review_date=_date(-220), jb_renewal_date=_date(60), jb_nps_score="9",
                  jb_open_escalations="0")
    c = _customer(portal, RENEWING, o2, jb_onboarding_start_date=_date(-320), jb_first_value_date=_date(-300),
                  jb_business_review_date=_date(-240), jb_renewal_date=_date(45), jb_nps_score="7",
                  jb_open_escalations="0")
    d = _customer(portal, UNHAPPY, o1, jb_onboarding_start_date=_date(-200), jb_first_value_date=_date(-180),
                  jb_business_review_date=_date(-120), jb_renewal_date=_date(165), jb_nps_score="3",
                  jb_open_escalations="2")
    _touch(portal, a, "calls", 2, [_contact(portal, a, "Sales Operations Manager", "CHAMPION")])
    exec_b = _contact(portal, b, "Chief Revenue Officer", "DECISION_MAKER")
    _touch(portal, b, "meetings", 10, [exec_b])
    exec_c, user_c = _contact(portal, c, "VP of Sales", "DECISION_MAKER"), _contact(portal, c, "Account Executive", "END_USER")
    _touch(portal, c, "meetings", 120, [exec_c])  # the executive was last seen outside the 90-day window
    _touch(portal, c, "emails", 5, [user_c])
    _touch(portal, d, "calls", 45, [_contact(portal, d, "Data Analyst", "")])
    e = _customer(portal, CONTACT_ONLY, o1, jb_onboarding_start_date=_date(-400), jb_first_value_date=_date(-380),
                  jb_business_review_date=_date(-300), jb_renewal_date=_date(200), jb_nps_score="9",
                  jb_open_escalations="0")
    user_e = _contact(portal, e, "Account Executive", "END_USER")
    _touch(portal, e, "calls", 70, [user_e])
    _touch(portal, None, "emails", 3, [user_e])  # logged on the contact only, as reps often do
    return portal


@pytest.fixture(scope="module")
def server(portal: Portal) -> Iterator[SandboxServer]:
    with SandboxServer(portal, token=SKILL_TOKEN, rate_limit=None, search_rate_limit=None) as srv:
        yield srv


@pytest.fixture
def ctx(skill_context: Callable[..., SkillContext], server: SandboxServer) -> SkillContext:
    return skill_context(server)


@pytest.fixture(scope="module")
def cache() -> dict[str, ChurnReport]:
    return {}


@pytest.fixture
def report(ctx: SkillContext, cache: dict[str, ChurnReport]) -> ChurnReport:
    """The default run, computed once per module (the tests only read it)."""
    if "default" not in cache:
        cache["default"] = run_churn(ctx)
    return cache["default"]


def _of(report: ChurnReport, account: str) -> dict[str, str]:
    return {f.rule: f.severity for f in report.findings if f.account == account}


def test_planted_first_value_miss(report: ChurnReport, portal: Portal) -> None:
    assert _of(report, ONBOARDING) == {"first_value": "high"}
    finding = next(f for f in report.findings if f.account == ONBOARDING)
    owner = portal.owners[1]
    assert finding.owner_name == f"{owner.first_name} {owner.last_name}"
    assert finding.behaviour == "40 days into onboarding and no first-value milestone (due by day 30)"
    assert finding.playbook is not None and finding.playbook.touchpoint_id == "tp-onboarding-checkins"
    assert finding.playbook.stage_name == "Onboarding"


def test_healthy_and_single_rule_accounts(report: ChurnReport) -> None:
    assert _of(report, HEALTHY) == {}  # renews in 60 days, but the CRO met us 10 days ago
    assert _of(report, RENEWING) == {"renewal_executive": "high"}
    renewal = next(f for f in report.findings if f.account == RENEWING)
    assert "renewal in 45 days" in renewal.behaviour and "executive" in renewal.behaviour
    assert renewal.playbook is not None and renewal.playbook.touchpoint_id == "tp-exec-sponsor-meeting"
    assert _of(report, UNHAPPY) == {"silence": "medium", "low_nps": "high", "escalations": "high"}
    silence = next(f for f in report.findings if f.account == UNHAPPY and f.rule == "silence")
    assert silence.behaviour.startswith("no logged engagement for 45 days")


def test_activity_logged_on_a_contact_counts_for_the_account(report: ChurnReport) -> None:
    """Churn and account read one definition of an account's activity: an email logged only
    on the customer's contact 3 days ago is not silence."""
    assert _of(report, CONTACT_ONLY) == {}


def test_second_run_reads_engagements_from_the_snapshot(ctx: SkillContext, server: SandboxServer,
                                                        report: ChurnReport) -> None:
    assert run_churn(ctx).findings == report.findings  # the first run of this context syncs the snapshot
    server.reset_counters()
    again = run_churn(ctx)
    assert again.findings == report.findings
    assert not [k for k in server.counts if k.startswith(("list:", "batch_read:")) and k.split(":")[1] in (
        "calls", "emails", "meetings", "notes", "tasks")], dict(server.counts)


def _raw_expected(portal: Portal) -> set[tuple[str, str]]:
    """(company name, rule) for the rules decidable from raw company properties alone."""
    out = set()
    for c in portal.records("companies"):
        p = c.properties
        start = p.get("jb_onboarding_start_date")
        if p.get("lifecyclestage") != "customer" and not start:
            continue
        day = (TODAY - dt.date.fromisoformat(str(start))).days if start else None
        early = day is not None and day <= 180  # milestone rules stop after the onboarding window
        if early and day >= 30 and "jb_first_value_date" not in p:
            out.add((str(p["name"]), "first_value"))
        if early and day >= 90 and "jb_business_review_date" not in p:
            out.add((str(p["name"]), "business_review"))
        if "jb_nps_score" in p and float(str(p["jb_nps_score"])) <= 6:
            out.add((str(p["name"]), "low_nps"))
        if int(str(p.get("jb_open_escalations", "0"))) > 0:
            out.add((str(p["name"]), "escalations"))
    return out


def test_findings_backed_by_raw_records(report: ChurnReport, portal: Portal) -> None:
    simple = {(f.account, f.rule) for f in report.findings if f.rule not in ("silence", "renewal_executive")}
    assert simple == _raw_expected(portal)
    by_name = {str(c.properties["name"]): c for c in portal.records("companies")}
    for f in report.findings:
        raw = by_name[f.account]
        if f.rule == "silence":
            people = portal.associated("companies", "contacts", raw.id)
            stamps = [int(portal.objects[k][e].properties["hs_timestamp"]) for k in ("calls", "emails", "meetings", "notes")
                      for e in {*portal.associated("companies", k, raw.id),
                                *(x for p in people for x in portal.associated("contacts", k, p))}]
            past = [s for s in stamps if s <= NOW_MS]
            assert not past or NOW_MS - max(past) >= 30 * DAY_MS, f.account
        if f.rule == "renewal_executive":
            ahead = (dt.date.fromisoformat(str(raw.properties["jb_renewal_date"])) - TODAY).days
            assert 0 <= ahead <= 90
        if f.rule == "low_nps":
            nps = float(str(raw.properties["jb_nps_score"]))
            assert f.severity == ("high" if nps <= 4 else "medium")
    assert report.customers_checked == sum(1 for c in portal.records("companies")
                                           if c.properties.get("lifecyclestage") == "customer"
                                           or c.properties.get("jb_onboarding_start_date"))
    assert len({f.rule for f in report.findings}) >= 4  # the generated data exercises most rules


def test_no_personal_data_and_render(report: ChurnReport) -> None:
    text = render(report)
    dumped = json.dumps(report.to_dict())
    for blob in (text, dumped):
        assert "@" not in blob and "+1 555" not in blob
    assert ONBOARDING in text and "Weekly onboarding check-in calls" in text
    assert "40 days into onboarding" in text


def test_filters(ctx: SkillContext, portal: Portal) -> None:
    owner = portal.owners[1]
    name = f"{owner.first_name} {owner.last_name}"
    mine = run_churn(ctx, owner=name.upper())
    assert mine.owner_filter == name and mine.findings
    assert {f.owner_name for f in mine.findings} == {name}
    assert run_churn(ctx, owner=str(owner.id)).findings == mine.findings
    high = run_churn(ctx, min_severity="high")
    assert {f.severity for f in high.findings} == {"high"}
    assert {(f.account, f.rule) for f in high.findings} == {
        (f.account, f.rule) for f in run_churn(ctx).findings if f.severity == "high"}
    assert (ONBOARDING, "first_value") in {(f.account, f.rule) for f in high.findings}
    registry = Registry()
    registry.add(SKILL)
    with pytest.raises(SkillInputError, match="owners:"):
        registry.dispatch(ctx, "churn", "--owner 'Nobody Here'")
    with pytest.raises(SkillInputError, match="min_severity"):
        registry.dispatch(ctx, "churn", "--min-severity urgent")


def test_rules_and_thresholds_come_from_settings(skill_context: Callable[..., SkillContext],
                                                 server: SandboxServer) -> None:
    ctx = skill_context(server, churn_rules="first_value,low_nps", churn_first_value_days=45,
                        churn_nps_threshold=2)
    report = run_churn(ctx)
    assert {f.rule for f in report.findings} <= {"first_value", "low_nps"}
    assert _of(report, ONBOARDING) == {} and _of(report, UNHAPPY) == {}
    assert report.rules == ("first_value", "low_nps")
