"""Which churn findings become alerts now: the ledger's cooldown, snooze and acknowledge.

Pure decisions over `storage.churn_ledger` (no Slack, no CRM). For each finding, keyed by
account (company id) and rule, in this order:
1. snoozed: a snooze whose `until` is after `now` skips it (whatever the severity);
2. acknowledged: an acknowledgement less than `cooldown_days` old skips it (someone is on
   it; after the cooldown it may alert again);
3. cooldown: an alert for the same account and rule sent less than `cooldown_days` ago
   (in the same `scope`) skips it, unless the finding WORSENED: its severity is above the
   severity of that alert (low < medium < high), which alerts again at once;
4. otherwise it is new and alerts.
`record_alerts_sent` writes the ledger rows once the messages are posted; a dry run
just does not call it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session

from skills.churn import SEVERITIES, ChurnFinding
from storage.churn_ledger import last_alert_sent, list_churn_responses, record_alert_sent


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


@dataclass(frozen=True)
class AlertDecision:
    finding: ChurnFinding
    send: bool
    reason: str  # "new", "worsened (medium -> high)", "snoozed by U… until …", "acknowledged by U… on …", "cooldown …"

    def to_dict(self) -> dict[str, object]:
        return {"company_id": self.finding.company_id, "account": self.finding.account, "rule": self.finding.rule,
                "severity": self.finding.severity, "send": self.send, "reason": self.reason}


def decide_alerts(session: Session, findings: Sequence[ChurnFinding], now: dt.datetime,
                  cooldown_days: int, *, scope: str = "") -> list[AlertDecision]:
    """One decision per finding, in the findings' order (module docstring for the rules).
    `now` is tz-aware, like every datetime the ledger returns."""
    since = now - dt.timedelta(days=cooldown_days)
    out: list[AlertDecision] = []
    for f in findings:
        responses = list_churn_responses(session, f.company_id, f.rule)  # newest first
        snooze = next((r for r in responses if r.response == "snooze" and r.until is not None and r.until > now), None)
        if snooze is not None and snooze.until is not None:
            out.append(AlertDecision(f, False, f"snoozed by {snooze.user} until {snooze.until.isoformat()}"))
            continue
        ack = next((r for r in responses if r.response == "ack" and r.at > since), None)
        if ack is not None:
            out.append(AlertDecision(f, False, f"acknowledged by {ack.user} on {ack.at.isoformat()}"))
            continue
        last = last_alert_sent(session, f.company_id, f.rule, scope=scope)
        if last is not None and last.sent_at > since:
            if _rank(f.severity) > _rank(last.severity):
                out.append(AlertDecision(f, True, f"worsened ({last.severity} -> {f.severity})"))
            else:
                out.append(AlertDecision(f, False, f"cooldown: alerted {last.sent_at.isoformat()} "
                                                   f"({last.severity}), {cooldown_days}-day cooldown"))
            continue
        out.append(AlertDecision(f, True, "new"))
    return out


def select_new_alerts(session: Session, findings: Sequence[ChurnFinding], now: dt.datetime,
                      cooldown_days: int, *, scope: str = "") -> list[ChurnFinding]:
    """The findings to alert now, in order."""
    return [d.finding for d in decide_alerts(session, findings, now, cooldown_days, scope=scope) if d.send]


def record_alerts_sent(session: Session, findings: Sequence[ChurnFinding], now: dt.datetime, *,
                       scope: str = "") -> None:
    """Write one ledger row per alerted finding (call after the post succeeded)."""
    for f in findings:
        record_alert_sent(session, f.company_id, f.rule, f.severity, scope=scope, at=now)
