"""`deal` for Slack: where the deal sits (CRM stage label and journey stage, days vs
target) as fields, then per stakeholder what to send as links (each with "Sent it"), who is missing, the
buyer questions to get ahead of, and the exit criteria to aim for."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.blocks.common import clarify, context, divider, escape, finish, footer, header, section, sections
from bot.blocks.rendering import RenderOptions, renders
from bot.blocks.sent_it import asset_line
from bot.message import SlackMessage
from skills import figures
from skills.deal import DealChoices, DealContent, DealSummary, PersonaContent


def _persona(p: PersonaContent, d: DealSummary) -> list[Block]:
    """Who they are and what moves them, then each asset as a section with "Sent it"."""
    who = ", ".join(f"{m.name} ({m.job_title or 'no title'})" for m in p.contacts)
    lines = [f"*{escape(p.persona_name)}* — {escape(who)}"]
    if p.motivation:
        lines.append(f"_What moves them:_ {escape(p.motivation)}")
    if not p.assets:
        lines.append("_No asset in the map fits them at this stage._")
    return [*sections("\n".join(lines)),
            *(asset_line(d.id, d.stage_id, d.stage_entered_at, a.id, a.title, a.url, a.why) for a in p.assets)]


def render(result: DealContent, *, ephemeral: bool = False) -> SlackMessage:
    r, d = result, result.deal
    company = f" at {d.company_name}" if d.company_name else ""
    days = f"{d.days_in_stage:g}" if d.days_in_stage is not None else "unknown"
    target = f" (target {r.target_days:g})" if r.target_days else ""
    flag = " ⚠️ over target" if r.over_target else ""
    journey = escape(r.journey_stage_name) if r.journey_stage_name else "_not mapped_"
    fields = [f"*Deal stage*\n{escape(d.stage_label)} ({escape(d.pipeline)})", f"*Journey stage*\n{journey}",
              f"*Days in stage*\n{days}{target}{flag}"]
    if d.amount is not None:
        fields.append(f"*Amount*\n{d.amount:,.0f}")
    if d.is_closed:
        fields.append(f"*Closed*\n{'won' if d.is_won else 'lost'}")
    when = f" · {figures.as_of(r.as_of)}" if r.as_of else ""
    blocks: list[Block] = [header(f"{d.name}{company}"), section(f"HubSpot deal {escape(d.id)}{when}", fields=fields)]
    if not r.mapped:
        blocks.append(context(f"Deal stage “{escape(d.stage_label)}” is not mapped to a journey stage: add it to "
                              "a stage's `hubspot.deal_stages` in the journey map to get content here."))
    for p in r.personas:
        blocks += _persona(p, d)
    if r.unmatched_contacts:
        blocks.append(context("No persona: " + escape(", ".join(
            f"{m.name} ({m.job_title or 'no title'})" for m in r.unmatched_contacts))))
    if r.not_yet_engaged:
        lines = ["*Not yet engaged*"] + [f"❌ *{escape(n.persona_name)}*: {escape(n.why)}" for n in r.not_yet_engaged]
        blocks += sections("\n".join(lines))
    if r.questions:
        lines = ["*Top buyer questions at this stage*"]
        lines += [f"• {escape(q.text)}" + ("" if q.answered_by else " _(no asset answers it yet)_")
                  for q in r.questions]
        blocks += sections("\n".join(lines))
    if r.handoff_criteria or r.trigger_out:
        lines = ["*Aim for (exit criteria)*"] + [f"• {escape(c)}" for c in r.handoff_criteria]
        if r.trigger_out:
            lines.append(f"• moves on when: {escape(r.trigger_out)}")
        blocks += [divider(), *sections("\n".join(lines))]
    blocks += footer("deal", d.id, ephemeral=ephemeral)
    text = [f"{d.name}{company}: {d.stage_label}, journey stage {r.journey_stage_name or 'not mapped'}, "
            f"{days} days in stage{target}{flag}"]
    text += [f"{p.persona_name}: " + ", ".join(a.title for a in p.assets) for p in r.personas]
    return finish(text, blocks)


def render_choices(result: DealChoices) -> SlackMessage:
    """Which deal: one button per candidate, value "deal|<deal id>"."""
    options = [(f"{c.name} ({c.detail})" if c.detail else c.name, f"deal|{c.id}") for c in result.candidates]
    return clarify(result.message, options)


@renders(DealContent)
def _deal_content(result: DealContent, options: RenderOptions) -> SlackMessage:
    return render(result, ephemeral=options.ephemeral)


@renders(DealChoices)
def _deal_choices(result: DealChoices, options: RenderOptions) -> SlackMessage:
    return render_choices(result)
