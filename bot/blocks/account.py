"""`account` readiness for Slack: the score and where the account is up top (fields),
then why (score parts), who is and is not engaged, open deals, and the next best actions
with their assets as links, since that is what a rep acts on."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.blocks.common import clarify, context, divider, escape, finish, footer, header, link, section, sections
from bot.blocks.rendering import RenderOptions, renders
from bot.message import SlackMessage
from skills import figures
from skills.account import AccountChoices, AccountReadiness, OpenDeal
from skills.next_actions import VERBS

MARKS = {"engaged": "✅", "silent": "💤", "missing": "❌"}


def _deal_line(d: OpenDeal) -> str:
    days = f"{d.days_in_stage:g} days in stage" if d.days_in_stage is not None else "days in stage unknown"
    target = f" (target {d.target_days:g})" if d.target_days is not None else ""
    flag = " ⚠️ *over target*" if d.over_target else ""
    journey = f" → {escape(d.journey_stage_name)}" if d.journey_stage_name else " (not mapped to a journey stage)"
    amount = f", {d.amount:,.0f}" if d.amount is not None else ""
    return f"• *{escape(d.name)}*{amount}: {escape(d.stage_label)}{journey}, {days}{target}{flag}"


def _actions_text(r: AccountReadiness) -> str:
    lines = ["*Next best actions*"]
    for a in r.next_actions:
        lines.append(f"• *{VERBS[a.kind]} {escape(a.persona_name)}*: {escape(a.why)}")
        lines += [f"    ↳ {link(x.url, x.title)} — {escape(x.why)}" for x in a.assets]
    return "\n".join(lines)


def render(result: AccountReadiness, *, ephemeral: bool = False) -> SlackMessage:
    r = result
    stage = f"{r.journey_stage_name} (from {'the open deal' if r.journey_stage_source == 'deal' else 'lifecycle'})" \
        if r.journey_stage_name else "unknown"
    e = r.engagement
    since = f"{e.days_since_last:g} days ago" if e.days_since_last is not None else "never"
    blocks: list[Block] = [
        header(f"{r.name}: readiness {r.score}/100"),
        section(
            f"{escape(r.domain or 'no domain')} · HubSpot id {escape(r.company_id)}"
            + (f" · {figures.as_of(r.as_of)}" if r.as_of else ""),
            fields=[
                f"*Journey stage*\n{escape(stage)}",
                f"*Committee*\n{len(r.engaged_personas)} of {len(r.committee)} personas engaged"
                + (f", {len(r.silent_personas)} silent" if r.silent_personas else ""),
                f"*Engagement*\n{e.last_30} in 30 days (before: {e.previous_30}, {e.trend})",
                f"*Last touch*\n{since}",
                f"*Open deals*\n{len(r.open_deals)} ({r.closed_deals} closed)",
                f"*Upcoming tasks*\n{e.upcoming_tasks}",
            ],
        ),
    ]
    parts = [f"• {escape(c.name.replace('_', ' '))}: {c.points:g}/{c.weight} — {escape(c.detail)}"
             for c in r.components]
    blocks += sections("*Why this score*\n" + "\n".join(parts))
    committee = [f"{MARKS[c.state]} *{escape(c.persona_name)}*: "
                 + (escape(c.summary()) if c.state != "missing" else "_nobody yet_") for c in r.committee]
    blocks += sections(f"*Buying committee* (engaged: involved in the last {r.engaged_days} days)\n"
                       + "\n".join(committee))
    unmatched = [m for m in r.contacts if not m.personas]
    if unmatched:
        blocks.append(context("No persona: " + escape(", ".join(f"{m.name} ({m.job_title or 'no title'})"
                                                                for m in unmatched))))
    if r.open_deals:
        blocks += sections("*Open deals*\n" + "\n".join(_deal_line(d) for d in r.open_deals))
    if r.next_actions:
        blocks.append(divider())
        blocks += sections(_actions_text(r))
    blocks += footer("account", r.company_id, ephemeral=ephemeral)
    text = [f"{r.name}: readiness {r.score}/100, journey stage {stage}",
            f"{len(r.engaged_personas)} of {len(r.committee)} personas engaged; {len(r.open_deals)} open deals"]
    text += [f"{VERBS[a.kind]} {a.persona_name}" for a in r.next_actions]
    return finish(text, blocks)


def render_choices(result: AccountChoices) -> SlackMessage:
    """Which company: one button per candidate, value "account|<company id>"."""
    options = [(f"{c.name} ({c.detail})" if c.detail else c.name, f"account|{c.id}") for c in result.candidates]
    return clarify(result.message, options)


@renders(AccountReadiness)
def _account_readiness(result: AccountReadiness, options: RenderOptions) -> SlackMessage:
    return render(result, ephemeral=options.ephemeral)


@renders(AccountChoices)
def _account_choices(result: AccountChoices, options: RenderOptions) -> SlackMessage:
    return render_choices(result)
