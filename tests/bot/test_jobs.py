"""A job as the queue stores it: only the fields that are set, and back unchanged."""

from __future__ import annotations

import json

import pytest

from bot.jobs import Job
from bot.replies import ReplyTo


@pytest.mark.parametrize("job", [
    Job("command", ReplyTo("C1", "U1", response_url="https://hooks.example/r/1"), text="ask what do I send?"),
    Job("message", ReplyTo("C1", "U1", thread_ts="1700000000.000100"), text="hi", event_id="Ev1"),
    Job("action", ReplyTo("C1", "U1", "1.2", "https://hooks.example/r/2"), action_id="jb_share", value="ask|7",
        message={"ts": "1.2", "blocks": [{"type": "divider"}]}),
    Job.deal_changes(["301", "302"]),
])
def test_a_job_round_trips_through_json(job: Job) -> None:
    assert Job.from_dict(json.loads(json.dumps(job.to_dict()))) == job


def test_a_slash_commands_job_carries_no_empty_fields() -> None:
    job = Job("command", ReplyTo("C1", "U1", response_url="https://hooks.example/r/1"), text="gaps")
    assert job.to_dict() == {"kind": "command", "text": "gaps",
                             "to": {"channel": "C1", "user": "U1", "response_url": "https://hooks.example/r/1"}}
