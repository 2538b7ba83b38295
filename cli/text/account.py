"""`account` as plain text: the score and why first, then the committee, activity, deals
and what to do next (a rep reads the top and acts on the bottom)."""

from __future__ import annotations

from cli.text import text_for
from skills import figures
from skills.account import AccountChoices, AccountReadiness
from skills.next_actions import VERBS

MARKS = {"engaged": "✓", "silent": "…", "missing": "✗"}


@text_for(AccountReadiness)
@text_for(AccountChoices)
def render(result: AccountReadiness | AccountChoices) -> str:
    if isinstance(result, AccountChoices):
        return render_choices(result.message, [(c.name, c.detail, c.id) for c in result.candidates])
    r = result
    stage = f"{r.journey_stage_name} (from {r.journey_stage_source})" if r.journey_stage_name else "unknown"
    lines = [f"{r.name} ({r.domain or 'no domain'}, HubSpot id {r.company_id})",
             f"Readiness {r.score}/100 · journey stage: {stage}" + (f" · {figures.as_of(r.as_of)}" if r.as_of else "")]
    lines += [f"  {c.name.replace('_', ' ')}: {c.points:g}/{c.weight} ({c.detail})" for c in r.components]
    lines.append(f"Buying committee (engaged = involved in activity in the last {r.engaged_days} days):")
    for cover in r.committee:
        lines.append(f"  {MARKS[cover.state]} {cover.persona_name} [{cover.persona_id}]: {cover.summary()}")
    lines.append("Contacts:")
    for m in r.contacts:
        persona = "; ".join(f"{p.persona_id} by {p.matched_by} ({p.evidence})" for p in m.personas) or "no persona"
        lines.append(f"  - {m.name}, {m.job_title or 'no title'}: {persona}")
    e = r.engagement
    since = f"{e.days_since_last:g} days ago" if e.days_since_last is not None else "never"
    lines.append(f"Engagement: {e.last_30} in 30 days (previous 30: {e.previous_30}, trend {e.trend}), "
                 f"{e.last_90} in 90 days; last {since}; {e.upcoming_tasks} upcoming tasks")
    lines.append("  " + ", ".join(f"{t.type} {t.last_30}/{t.last_90}" for t in e.by_type) + " (30d/90d)")
    if r.open_deals:
        lines.append("Open deals:")
    for d in r.open_deals:
        days = f"{d.days_in_stage:g}" if d.days_in_stage is not None else "?"
        target = f" vs target {d.target_days:g}" if d.target_days is not None else ""
        flag = " OVER TARGET" if d.over_target else ""
        journey = d.journey_stage_name or "not mapped to a journey stage"
        lines.append(f"  - {d.name}: {d.stage_label} ({journey}), {days} days in stage{target}{flag}")
    if not r.open_deals:
        lines.append(f"Open deals: none ({r.closed_deals} closed)")
    lines.append("Next best actions:")
    for a in r.next_actions:
        lines.append(f"  • {VERBS[a.kind]} {a.persona_name} [{a.persona_id}]: {a.why}")
        lines += [f"      {x.title} <{x.url}> ({x.why})" for x in a.assets]
    return "\n".join(lines)


def render_choices(message: str, options: list[tuple[str, str, str]]) -> str:
    """A question back: one line per candidate (name, detail, id)."""
    lines = [message]
    lines += [f"  {n}. {name}" + (f" ({detail})" if detail else "") + f" [id {rid}]"
              for n, (name, detail, rid) in enumerate(options, 1)]
    return "\n".join(lines)
