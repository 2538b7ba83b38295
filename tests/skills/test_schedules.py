"""The subscription grammar shared by Slack, the CLI and the scheduler."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.validation import load_map
from skills.registry import SkillInputError
from skills.schedules import describe, parse_subscription, subscribe, summary
from storage.engine import create_all, make_engine, session_scope
from storage.subscriptions import list_subscriptions
from tests.conftest import SAMPLE_MAP


@pytest.mark.parametrize(
    "text,kind,cron,tz,filters",
    [
        ("digest weekly mon 09:00 Europe/Berlin", "digest", "0 9 * * mon", "Europe/Berlin", {}),
        ("digest", "digest", "0 9 * * mon", "UTC", {}),
        ("velocity friday 16:30", "digest", "30 16 * * fri", "UTC", {}),
        ("churn daily 08:15 America/New_York --min_severity high", "churn", "15 8 * * *", "America/New_York", {"min_severity": "high"}),
        ('alerts daily --owner "Ava Adams"', "churn", "0 8 * * *", "UTC", {"owner": "Ava Adams"}),
        ("gaps monthly 3 07:00", "gaps", "0 7 3 * *", "UTC", {}),
        ("gaps --stage decision --persona CFO", "gaps", "0 9 1 * *", "UTC", {"stage": "decision", "persona": "CFO"}),
        ("digest weekly tue --pipeline default", "digest", "0 9 * * tue", "UTC", {"pipeline": "default"}),
    ],
)
def test_parse(text: str, kind: str, cron: str, tz: str, filters: dict[str, str]) -> None:
    request = parse_subscription(text)
    assert (request.kind, request.cron, request.timezone, request.filters) == (kind, cron, tz, filters)


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "what should I post"),
        ("lunch weekly", "what should I post"),
        ("digest weekly mon 25:00", "don't understand '25:00'"),
        ("digest Mars/Olympus", "unknown time zone"),
        ("gaps monthly 31", "day from 1 to 28"),
        ("churn --colour red", "unknown or empty option --colour"),
    ],
)
def test_bad_schedules_say_how(text: str, message: str) -> None:
    with pytest.raises(SkillInputError, match=message):
        parse_subscription(text)


def test_describe() -> None:
    assert describe("digest", "0 9 * * mon", "Europe/Berlin") == "digest every Monday at 09:00 Europe/Berlin"
    assert describe("churn", "15 8 * * *", "UTC") == "churn every day at 08:15 UTC"
    assert describe("gaps", "0 7 3 * *", "UTC") == "gaps on day 3 of every month at 07:00 UTC"


def test_subscribe_stores_what_was_parsed_and_reads_it_back(tmp_path: Path) -> None:
    """The one subscribe step of Slack and the CLI, on a real SQLite database."""
    engine = make_engine(f"sqlite:///{tmp_path / 'subs.db'}")
    create_all(engine)
    request = parse_subscription("churn daily 08:15 America/New_York --min_severity high")
    with session_scope(engine) as session:
        made = subscribe(session, "C0CSTEAM", request, created_by="U0ADMIN").subscription
    assert summary(made) == "churn every day at 08:15 America/New_York --min_severity high"
    for channel in ("#cs-team", "cs-team", "c0cs"):  # a name instead of the id is refused, nothing stored
        with pytest.raises(SkillInputError, match="not a Slack channel id"), session_scope(engine) as session:
            subscribe(session, channel, request, created_by="cli")
    with session_scope(engine) as session:
        [stored] = list_subscriptions(session)
        assert (stored.id, stored.channel_id, stored.kind, stored.cron, stored.timezone, stored.filters, stored.created_by) == (
            made.id, "C0CSTEAM", "churn", "15 8 * * *", "America/New_York", {"min_severity": "high"}, "U0ADMIN")
    engine.dispose()


def test_subscribing_again_with_another_time_edits_the_subscription(tmp_path: Path) -> None:
    """Same channel, kind and filters: the same subscription at the new time (its id, and
    so its posted periods, kept); other filters: a subscription of its own."""
    engine = make_engine(f"sqlite:///{tmp_path / 'subs.db'}")
    create_all(engine)
    with session_scope(engine) as session:
        first = subscribe(session, "C0LEADS", parse_subscription("digest weekly mon 09:00 UTC"), created_by="cli")
        moved = subscribe(session, "C0LEADS", parse_subscription("digest weekly mon 07:30 Europe/Berlin"), created_by="cli")
        other = subscribe(session, "C0LEADS", parse_subscription("digest weekly mon 09:00 UTC --pipeline default"),
                          created_by="cli")
        said = (first.describe(), moved.describe())
        ids = (first.subscription.id, moved.subscription.id, other.subscription.id)
        assert (first.updated, moved.updated, other.updated) == (False, True, False)
    assert ids[0] == ids[1] != ids[2]
    assert said[0].startswith("Subscribed (id") and said[1] == f"Rescheduled (id {ids[0]}): digest every Monday at 07:30 Europe/Berlin"
    with session_scope(engine) as session:
        stored = {s.id: (s.cron, s.timezone, s.filters) for s in list_subscriptions(session)}
    assert stored == {ids[0]: ("30 7 * * mon", "Europe/Berlin", {}), ids[2]: ("0 9 * * mon", "UTC", {"pipeline": "default"})}
    engine.dispose()


def test_a_gaps_subscription_for_one_stage_and_persona_stores_the_map_s_ids(tmp_path: Path) -> None:
    """Checked against the map when subscribing, so a typo fails now and not at every fire
    time; stored as ids, so "Decision" and "decision" are the same subscription."""
    journey_map = load_map(SAMPLE_MAP).journey_map
    engine = make_engine(f"sqlite:///{tmp_path / 'subs.db'}")
    create_all(engine)
    with session_scope(engine) as session:
        first = subscribe(session, "C0MKT", parse_subscription("gaps monthly 3 --stage Decision --persona CFO"),
                          created_by="cli", journey_map=journey_map)
        again = subscribe(session, "C0MKT", parse_subscription("gaps monthly 5 --stage decision --persona finance"),
                          created_by="cli", journey_map=journey_map)
    assert (first.updated, again.updated) == (False, True)
    assert summary(again.subscription) == "gaps on day 5 of every month at 09:00 UTC --stage decision --persona finance"
    for text, message in (("gaps --stage nosuch", "unknown stage 'nosuch'"), ("gaps --persona janitor", "unknown persona 'janitor'")):
        with pytest.raises(SkillInputError, match=message), session_scope(engine) as session:
            subscribe(session, "C0MKT", parse_subscription(text), created_by="cli", journey_map=journey_map)
    with session_scope(engine) as session:
        assert [s.filters for s in list_subscriptions(session)] == [{"stage": "decision", "persona": "finance"}]
    engine.dispose()
