"""An account's activity, one definition for every skill (`account`, `churn`): the calls,
emails, meetings, notes and tasks associated with the company or with any of its
contacts, each once, newest first. Each keeps which of the account's contacts it
involved, so engagement can be judged per stakeholder and not only per company.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from skills.crm.records import Engagement, parse_time
from storage.crm_snapshot import SnapshotRow

ENGAGEMENT_TYPES: tuple[str, ...] = ("calls", "emails", "meetings", "notes", "tasks")
ENGAGEMENT_PROPS = ("hs_timestamp", "hubspot_owner_id", "hs_call_title", "hs_email_subject", "hs_meeting_title",
                    "hs_note_body", "hs_task_subject", "hs_task_status")
_TITLES = {"calls": "hs_call_title", "emails": "hs_email_subject", "meetings": "hs_meeting_title",
           "notes": "hs_note_body", "tasks": "hs_task_subject"}
_FLOOR = dt.datetime.min.replace(tzinfo=dt.UTC)


def happened(engagement: Engagement, now: dt.datetime) -> bool:
    """Activity that took place: dated no later than now, and a task only once completed
    (a task's timestamp is its due date)."""
    stamp = engagement.timestamp
    return stamp is not None and stamp <= now and (engagement.type != "tasks" or engagement.status == "COMPLETED")


def newest_first(engagements: Iterable[Engagement]) -> list[Engagement]:
    return sorted(engagements, key=lambda e: e.timestamp or _FLOOR, reverse=True)


def account_activity(kind: str, accounts: Mapping[str, Sequence[str]], by_company: Mapping[str, Sequence[str]],
                     by_contact: Mapping[str, Sequence[str]], rows: Iterable[SnapshotRow]
                     ) -> dict[str, list[Engagement]]:
    """One engagement type's records per account, from the company -> engagement and
    contact -> engagement associations and the engagements' properties (pure)."""
    props = {row.object_id: row.properties for row in rows}
    out: dict[str, list[Engagement]] = {}
    for company_id, contact_ids in accounts.items():
        involved: dict[str, list[str]] = {}
        for contact_id in contact_ids:
            for engagement_id in by_contact.get(contact_id, ()):
                involved.setdefault(engagement_id, []).append(contact_id)
        found = []
        for engagement_id in dict.fromkeys([*by_company.get(company_id, ()), *involved]):
            p = props.get(engagement_id)
            if p is None:  # archived or deleted since the association was read
                continue
            found.append(Engagement(engagement_id, kind, parse_time(p.get("hs_timestamp")), p.get("hubspot_owner_id"),
                                    p.get(_TITLES[kind]), p.get("hs_task_status"), company_id,
                                    tuple(involved.get(engagement_id, ()))))
        out[company_id] = found
    return out
