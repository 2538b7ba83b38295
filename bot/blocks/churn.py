"""`churn` alerts for Slack: worst first, one section per finding (account, owner,
behaviour, the playbook touchpoint to run) with Acknowledge / Snooze buttons under it,
so a CSM can act on each risk without leaving the channel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import Block

from bot import ids
from bot.blocks.common import (
    actions,
    button,
    context,
    escape,
    finish,
    fit_groups,
    footer,
    header,
    more_pointer,
    rerun_ref,
    section,
)
from bot.blocks.rendering import RenderOptions, renders
from bot.blocks.velocity import owner_ref
from bot.button_values import AlertRef
from bot.message import MAX_BLOCKS, SlackMessage
from skills import figures
from skills.churn import SEVERITIES, ChurnFinding, ChurnReport

MARK = {"high": "🔴 High", "medium": "🟠 Medium", "low": "🟡 Low"}
RULE_LABELS = {
    "first_value": "no first value",
    "silence": "gone quiet",
    "business_review": "no business review",
    "renewal_executive": "renewal without an executive",
    "low_nps": "low NPS",
    "escalations": "open escalations",
}


def _finding(f: ChurnFinding, mentions: Mapping[str, str] | None = None) -> list[Block]:
    play = (f"Run: *{escape(f.playbook.name)}* ({escape(f.playbook.channel)}, {escape(f.playbook.stage_name)})"
            if f.playbook else "_No playbook touchpoint in the map for this risk._")
    text = (f"*{escape(f.account)}* · owner {owner_ref(f.owner_id, f.owner_name, mentions)}\n"
            f"{MARK.get(f.severity, f.severity)} — {escape(RULE_LABELS.get(f.rule, f.rule))}: {escape(f.behaviour)}\n"
            f"{play}")
    value = AlertRef(f.company_id, f.rule).encode()
    buttons = [button("Acknowledge", ids.CHURN_ACK, value, style="primary"),
               button("Snooze 7 days", ids.CHURN_SNOOZE, value)]
    return [section(text), *actions(buttons)]


def render(result: ChurnReport, *, offset: int = 0, ephemeral: bool = False,
           mentions: Mapping[str, str] | None = None) -> SlackMessage:
    """`offset` skips that many findings (the *Show more* page); `mentions` maps CRM owner
    id -> Slack user id (bot.owners), owners without one are named."""
    scope = f" for {result.owner_filter}" if result.owner_filter else ""
    accounts = len({f.company_id for f in result.findings})
    counts = {s: sum(1 for f in result.findings if f.severity == s) for s in SEVERITIES}
    page = " (continued)" if offset else ""
    blocks: list[Block] = [header(f"Churn risk{scope}, {result.now:%Y-%m-%d}{page}"), context(figures.as_of(result.now))]
    summary = (f"*{accounts}* of {result.customers_checked} customer accounts flagged "
               f"(severity {result.min_severity} and up).")
    if not offset:
        blocks.append(section(summary, fields=[f"*{MARK[s]}*\n{counts[s]}" for s in reversed(SEVERITIES)
                                               if SEVERITIES.index(s) >= SEVERITIES.index(result.min_severity)]))
    if not result.findings:
        blocks.append(section("No behaviour to act on. ✅"))
    room = MAX_BLOCKS - len(blocks) - 2  # the "more" pointer and the footer
    body, used = fit_groups([_finding(f, mentions) for f in result.findings[offset:]], room)
    blocks += body
    hidden = len(result.findings) - offset - used
    if hidden > 0:
        blocks.append(context(more_pointer(hidden, "churn", "more findings")))
    ref = rerun_ref(("min_severity", result.min_severity), ("owner", result.owner_filter))
    blocks += footer("churn", ref, ephemeral=ephemeral, next_offset=offset + used if hidden > 0 else None)
    text = [f"Churn risk{scope}: {accounts} of {result.customers_checked} customer accounts flagged"]
    text += [f"{f.severity.upper()} {f.account}: {f.behaviour}" for f in result.findings[offset:offset + used]]
    if hidden > 0:
        text.append(f"… {hidden} more findings")
    return finish(text, blocks)


def _alert_text(f: ChurnFinding) -> str:
    return f"{f.severity.upper()} {f.account} ({RULE_LABELS.get(f.rule, f.rule)}): {f.behaviour}; owner {f.owner_name}"


def render_alerts(findings: Sequence[ChurnFinding], per_finding: bool = False, *,
                  mentions: Mapping[str, str] | None = None, scope: str | None = None,
                  as_of: dt.datetime | None = None) -> list[SlackMessage]:
    """New churn alerts (already filtered by skills.churn_alerts): grouped (as many
    messages as they need: none is dropped), or with `per_finding` one message each; no
    findings, no messages. Each finding keeps its Acknowledge / Snooze buttons. `scope`
    names an owner or team in the header."""
    return [message for message, _ in alert_pages(findings, per_finding, mentions=mentions, scope=scope, as_of=as_of)]


def alert_pages(findings: Sequence[ChurnFinding], per_finding: bool = False, *,
                mentions: Mapping[str, str] | None = None, scope: str | None = None,
                as_of: dt.datetime | None = None) -> list[tuple[SlackMessage, list[ChurnFinding]]]:
    """The messages with the findings each one shows, so a poster can record exactly what
    reached the channel; `as_of`, when the findings were read, heads each message."""
    when = [context(figures.as_of(as_of))] if as_of else []
    if not findings:
        return []
    where = f" for {scope}" if scope else ""
    if per_finding:
        return [(finish([f"Churn risk{where}: {_alert_text(f)}"],
                        [header(f"Churn risk{where}: {f.account}"), *when, *_finding(f, mentions)]), [f]) for f in findings]
    accounts = len({f.company_id for f in findings})
    counts = ", ".join(f"{sum(1 for f in findings if f.severity == s)} {s}" for s in reversed(SEVERITIES)
                       if any(f.severity == s for f in findings))
    summary = (f"*{len(findings)}* new alert{'s' if len(findings) != 1 else ''} on "
               f"*{accounts}* account{'s' if accounts != 1 else ''} ({counts}).")
    groups = [_finding(f, mentions) for f in findings]
    pages: list[tuple[list[Block], list[ChurnFinding]]] = []
    start = 0
    while start < len(findings):
        first = not pages
        lead: list[Block] = ([header(f"New churn risks{where}"), *when, section(summary)] if first
                             else [header(f"New churn risks{where}, continued"), *when])
        body, used = fit_groups(groups[start:], MAX_BLOCKS - len(lead))
        used = max(used, 1)  # a finding larger than a message still goes out (finish trims it)
        pages.append((lead + (body or groups[start]), list(findings[start:start + used])))
        start += used
    out = []
    for n, (blocks, shown) in enumerate(pages, start=1):
        part = f" (part {n} of {len(pages)})" if len(pages) > 1 else ""
        text = [f"New churn risks{where}{part}: {len(findings)} alerts on {accounts} accounts"]
        text += [_alert_text(f) for f in shown]
        out.append((finish(text, blocks), shown))
    return out


@renders(ChurnReport)
def _churn_report(result: ChurnReport, options: RenderOptions) -> SlackMessage:
    return render(result, offset=options.offset, ephemeral=options.ephemeral, mentions=options.mentions)
