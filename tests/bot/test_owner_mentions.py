"""Owners as Slack mentions: an owner whose CRM email matches a Slack user is `<@U…>`,
others are named, and no email ever reaches a payload; lookups are cached (misses too)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.blocks import render_result
from bot.blocks.churn import render_alerts
from bot.owners import FOUND_TTL_S, MISSING_TTL_S, CacheEntry, CacheKey, SlackOwnerDirectory, owner_ids_of
from sandbox.slack_api import SlackStandIn
from skills.churn import ChurnFinding, ChurnReport
from skills.crm.records import Owner
from skills.velocity_report import (
    DaysStat,
    PeriodTotals,
    PipelineVelocity,
    StalledDeal,
    VelocityReport,
    Window,
)

NOW = dt.datetime(2025, 6, 4, 10, 0, tzinfo=dt.UTC)
OWNERS = [Owner("1", "Ava", "Adams", "Ava.Adams@example.com"), Owner("2", "Ben", "Brown", "ben@example.com"),
          Owner("3", None, None, "nameless@example.com")]
EMAILS = [o.email for o in OWNERS if o.email]


class Gateway:
    def __init__(self) -> None:
        self.calls = 0

    def owners(self) -> list[Owner]:
        self.calls += 1
        return OWNERS


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    stand_in = SlackStandIn().start()
    stand_in.users_by_email = {"ava.adams@example.com": "U0AVA"}
    yield stand_in
    stand_in.stop()


@pytest.fixture
def directory(slack: SlackStandIn) -> SlackOwnerDirectory:
    return SlackOwnerDirectory(WebClient(token="xoxb-test", base_url=slack.base_url), cache={})


def velocity_report() -> VelocityReport:
    window = Window(NOW - dt.timedelta(days=9), NOW - dt.timedelta(days=2))
    totals = PeriodTotals(0, 0, 0.0, DaysStat.of([]), 0, 0.0, 0)
    stalled = (StalledDeal("d1", "Nova renewal", "qualifiedtobuy", "Qualified To Buy", 36.0, 18.0, "1", "Ava Adams"),
               StalledDeal("d2", "Orion upsell", "qualifiedtobuy", "Qualified To Buy", 30.0, 18.0, "2", "Ben Brown"),
               StalledDeal("d3", "Vega", "qualifiedtobuy", "Qualified To Buy", 20.0, 18.0, None, "unassigned"))
    pipe = PipelineVelocity("default", "Sales Pipeline", (), totals, totals, stalled)
    return VelocityReport(NOW, window, window.shifted(-1), (pipe,))


def churn_report() -> ChurnReport:
    findings = (ChurnFinding("c1", "Acme", "silence", "medium", "no logged engagement for 40 days", "1", "Ava Adams", None),
                ChurnFinding("c2", "Globex", "low_nps", "high", "NPS of 3 (at or below 6)", "3", "Owner 3", None))
    return ChurnReport(NOW, "low", None, 2, ("silence", "low_nps"), findings)


def no_email(*payloads: object) -> None:
    dumped = json.dumps(payloads, default=str).lower()
    assert "@example.com" not in dumped and "[redacted]" not in dumped
    for email in EMAILS:
        assert email.lower() not in dumped


def test_velocity_stalled_owners_mentioned_or_named(directory: SlackOwnerDirectory, slack: SlackStandIn) -> None:
    report = velocity_report()
    gateway = Gateway()
    mentions = directory.mentions_for(gateway, report)
    assert mentions == {"1": "U0AVA"} and gateway.calls == 1
    message = render_result("velocity", report, mentions=mentions)
    body = json.dumps(message.payload_blocks())
    assert "owner <@U0AVA>" in body and "owner Ben Brown" in body and "owner unassigned" in body
    assert "Ava Adams" not in body
    no_email(message.payload_blocks(), message.text, report.to_dict())
    # lookups went by email for the two owners shown, and only for them
    looked = sorted(c["params"]["email"] for c in slack.of("users.lookupByEmail"))
    assert looked == ["ava.adams@example.com", "ben@example.com"]


def test_churn_findings_and_alerts(directory: SlackOwnerDirectory) -> None:
    report = churn_report()
    mentions = directory.mentions_for(Gateway(), report)
    assert mentions == {"1": "U0AVA"}
    message = render_result("churn", report, mentions=mentions)
    body = json.dumps(message.payload_blocks())
    assert "owner <@U0AVA>" in body and "owner Owner 3" in body
    alerts = render_alerts(report.findings, per_finding=True, mentions=mentions)
    assert "<@U0AVA>" in json.dumps(alerts[0].payload_blocks())
    no_email(message.payload_blocks(), message.text, report.to_dict(),
             [(m.text, m.payload_blocks()) for m in alerts])


def test_cache_covers_hits_and_misses_not_errors(directory: SlackOwnerDirectory, slack: SlackStandIn) -> None:
    assert directory.mentions(OWNERS) == {"1": "U0AVA"}
    assert len(slack.of("users.lookupByEmail")) == 3
    assert directory.mentions(OWNERS) == {"1": "U0AVA"}
    assert len(slack.of("users.lookupByEmail")) == 3  # all three cached, misses included

    fresh = SlackOwnerDirectory(directory.client, cache={})
    slack.fail_next("users.lookupByEmail", "500")
    assert fresh.mentions(OWNERS[:1]) == {}  # the error falls back to the name...
    assert fresh.mentions(OWNERS[:1]) == {"1": "U0AVA"}  # ...and is not cached


def test_no_owner_no_lookup(directory: SlackOwnerDirectory, slack: SlackStandIn) -> None:
    empty = ChurnReport(NOW, "low", None, 0, (), ())
    gateway = Gateway()
    assert owner_ids_of(empty) == set() and directory.mentions_for(gateway, empty) == {}
    assert gateway.calls == 0 and slack.of("users.lookupByEmail") == []


def test_cached_answers_expire_misses_first(slack: SlackStandIn) -> None:
    """A rep who joins Slack after the first lookup is found once the miss expires; a found
    user is asked again only after the longer expiry."""
    now = [0.0]
    directory = SlackOwnerDirectory(WebClient(token="xoxb-test", base_url=slack.base_url), cache={},
                                    clock=lambda: now[0])
    assert directory.mentions(OWNERS[:2]) == {"1": "U0AVA"}
    slack.users_by_email["ben@example.com"] = "U0BEN"  # Ben joins the workspace
    now[0] = MISSING_TTL_S - 1
    assert directory.mentions(OWNERS[:2]) == {"1": "U0AVA"}  # the miss still stands
    now[0] = MISSING_TTL_S + 1
    assert directory.mentions(OWNERS[:2]) == {"1": "U0AVA", "2": "U0BEN"}
    assert len(slack.of("users.lookupByEmail")) == 3  # Ava stayed cached
    now[0] = FOUND_TTL_S + 1
    directory.mentions(OWNERS[:1])
    assert len(slack.of("users.lookupByEmail")) == 4


def test_one_workspace_never_answers_for_another(slack: SlackStandIn) -> None:
    other = SlackStandIn().start()
    try:
        other.users_by_email = {"ava.adams@example.com": "U0OTHERAVA"}
        cache: dict[CacheKey, CacheEntry] = {}
        here = SlackOwnerDirectory(WebClient(token="xoxb-test", base_url=slack.base_url), cache=cache)
        there = SlackOwnerDirectory(WebClient(token="xoxb-test", base_url=other.base_url), cache=cache)
        assert here.mentions(OWNERS[:1]) == {"1": "U0AVA"} and there.mentions(OWNERS[:1]) == {"1": "U0OTHERAVA"}
        assert "xoxb-test" not in repr(cache)  # the token is not kept, only a digest
    finally:
        other.stop()
