"""`deal` as plain text: where the deal is in the journey, then per stakeholder what to
send and why, then who is missing and what the stage's exit looks like."""

from __future__ import annotations

from cli.text import text_for
from cli.text.account import render_choices
from skills import figures
from skills.deal import DealChoices, DealContent


@text_for(DealContent)
@text_for(DealChoices)
def render(result: DealContent | DealChoices) -> str:
    if isinstance(result, DealChoices):
        return render_choices(result.message, [(c.name, c.detail, c.id) for c in result.candidates])
    r, d = result, result.deal
    amount = f", {d.amount:,.0f}" if d.amount is not None else ""
    company = f" at {d.company_name}" if d.company_name else ""
    lines = [f"{d.name}{company} (HubSpot id {d.id}{amount})" + (f", {figures.as_of(r.as_of)}" if r.as_of else "")]
    days = f"{d.days_in_stage:g} days in stage" if d.days_in_stage is not None else "days in stage unknown"
    target = f" vs target {r.target_days:g}" + (" — OVER TARGET" if r.over_target else "") if r.target_days else ""
    lines.append(f"Stage: {d.stage_label} [{d.pipeline}], {days}{target}")
    lines.append(r.mapping_note)
    for p in r.personas:
        who = ", ".join(f"{m.name} ({m.job_title or 'no title'}, by {m.matched_by})" for m in p.contacts)
        lines.append(f"{p.persona_name} [{p.persona_id}]: {who}")
        if p.motivation:
            lines.append(f"  what moves them: {p.motivation}")
        lines += [f"  → {a.title} <{a.url}> ({a.why})" for a in p.assets]
    if r.unmatched_contacts:
        lines.append("Contacts with no persona: " + ", ".join(
            f"{m.name} ({m.job_title or 'no title'})" for m in r.unmatched_contacts))
    if r.not_yet_engaged:
        lines.append("Not yet engaged:")
        lines += [f"  ✗ {n.persona_name} [{n.persona_id}]: {n.why}" for n in r.not_yet_engaged]
    if r.questions:
        lines.append("Top buyer questions at this stage:")
        lines += [f"  ? {q.text}" + ("" if q.answered_by else " (no asset answers it yet)") for q in r.questions]
    if r.handoff_criteria or r.trigger_out:
        lines.append("Aim for (exit criteria):")
        lines += [f"  - {c}" for c in r.handoff_criteria]
        if r.trigger_out:
            lines.append(f"  - moves on when: {r.trigger_out}")
    return "\n".join(lines)
