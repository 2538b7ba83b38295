"""`churn` as plain text: accounts at risk, worst first, each with behaviour, owner and play."""

from __future__ import annotations

from cli.text import text_for
from skills import figures
from skills.churn import ChurnFinding, ChurnReport

MARK = {"high": "HIGH", "medium": "MED ", "low": "LOW "}


def _line(f: ChurnFinding) -> str:
    play = f"run: {f.playbook.name} ({f.playbook.stage_name})" if f.playbook else "no playbook touchpoint in the map"
    return f"  [{MARK[f.severity]}] {f.behaviour}; {play}"


@text_for(ChurnReport)
def render(result: ChurnReport) -> str:
    scope = f" for {result.owner_filter}" if result.owner_filter else ""
    accounts: dict[str, list[ChurnFinding]] = {}
    for finding in result.findings:
        accounts.setdefault(finding.company_id, []).append(finding)
    head = (f"Churn risk{scope}, {result.now:%Y-%m-%d}: {len(accounts)} of {result.customers_checked} customer "
            f"accounts flagged (severity {result.min_severity} and up)")
    head += "\n" + figures.as_of(result.now)
    if not accounts:
        return head + "\nNo behaviour to act on."
    lines = [head]
    for items in accounts.values():  # findings arrive worst first, so accounts do too
        lines.append("")
        lines.append(f"{items[0].account} (owner {items[0].owner_name})")
        lines += [_line(f) for f in items]
    return "\n".join(lines)
