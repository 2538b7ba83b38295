"""The deal nudge as a DM: what happened (entered a stage, or past 1x / 2x its target),
where the deal sits, then each asset as a section of its own (so a "Sent it" button can sit
beside each one), the committee roles still missing with an asset for each, the buyer
questions to get ahead of and the exit criteria. An unmapped stage is said plainly."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ButtonElement

from bot.blocks.common import context, divider, escape, finish, header, link, section, sections
from bot.blocks.sent_it import sent_it_button
from bot.message import SlackMessage
from skills.account_lookup import AssetPick
from skills.nudge import Nudge

# Block ids: "<prefix>:<n>" (unique within the message); the asset's id rides in the
# section's block id so a button added beside it knows which asset it is about.
ASSET_BLOCK = "nudge_asset"
MISSING_ROLE_BLOCK = "nudge_missing_role"
NUDGE_HEADER_BLOCK = "nudge_header"
MAX_ASSET_SECTIONS = 30  # within Slack's 50 blocks, leaving room for the rest

KIND_HEADLINE = {
    "entered": "🚀 {deal} moved to {stage}",
    "overdue_1x": "⏰ {deal} is past its target in {stage}",
    "overdue_2x": "⚠️ {deal} has spent twice its target in {stage}",
}


def asset_block_id(kind: str, n: int, asset_id: str) -> str:
    return f"{kind}:{n}:{asset_id}"[:255]


def _days(n: Nudge) -> str:
    days = f"{n.days_in_stage:g}" if n.days_in_stage is not None else "unknown"
    target = f" (target {n.target_days:g})" if n.target_days else ""
    return f"{days}{target}"


def _asset_text(asset: AssetPick, lead: str) -> str:
    return f"{lead} {link(asset.url, asset.title)} — {escape(asset.why)}"


def _sent_it(n: Nudge, asset_id: str) -> ButtonElement:
    return sent_it_button(n.deal_id, n.stage_id, asset_id, n.stage_entered_at)


def render_nudge(n: Nudge) -> SlackMessage:
    company = f" ({n.company_name})" if n.company_name else ""
    title = KIND_HEADLINE.get(n.kind, "{deal}: {stage}").format(deal=f"{n.deal_name}{company}", stage=n.stage_label)
    journey = escape(n.journey_stage_name) if n.journey_stage_name else "_not mapped_"
    fields = [f"*Deal stage*\n{escape(n.stage_label)} ({escape(n.pipeline)})", f"*Journey stage*\n{journey}",
              f"*Days in stage*\n{_days(n)}"]
    blocks: list[Block] = [header(title), section(f"HubSpot deal {escape(n.deal_id)}", fields=fields,
                                                  block_id=NUDGE_HEADER_BLOCK)]
    if not n.mapped:
        blocks += sections(f"⚠️ {escape(n.mapping_note)}")
        return finish([title, n.mapping_note], blocks)
    if n.journey_stage_meaning:
        blocks += sections(f"*What {escape(n.journey_stage_name or '')} means:* {escape(n.journey_stage_meaning)}")
    if n.kind != "entered":
        still = [m.persona_name for m in n.missing_roles]
        lines = ["*Still missing*"] + [f"• no {escape(name)} on the deal yet" for name in still]
        lines += [f"• exit criterion: {escape(c)}" for c in n.exit_criteria]
        blocks += sections("\n".join(lines))
    shown = 0
    for persona in n.stakeholders:
        who = ", ".join(m.name for m in persona.contacts)
        blocks.append(section(f"*{escape(persona.persona_name)}* — {escape(who)}" +
                              (f"\n_What moves them:_ {escape(persona.motivation)}" if persona.motivation else "")))
        for asset in persona.assets:
            if shown < MAX_ASSET_SECTIONS:
                blocks.append(section(_asset_text(asset, "→"), block_id=asset_block_id(ASSET_BLOCK, shown, asset.id),
                                      accessory=_sent_it(n, asset.id)))
                shown += 1
        if not persona.assets:
            blocks.append(context("No asset in the map fits them at this stage."))
    if n.missing_roles:
        blocks += [divider(), section("*Missing from the buying committee*")]
        for role in n.missing_roles:
            text = f"❌ *{escape(role.persona_name)}*: {escape(role.why)}"
            if role.asset is not None and shown < MAX_ASSET_SECTIONS:
                text += "\n" + _asset_text(role.asset, "→ to bring them in:")
                blocks.append(section(text, block_id=asset_block_id(MISSING_ROLE_BLOCK, shown, role.asset.id),
                                      accessory=_sent_it(n, role.asset.id)))
                shown += 1
            else:
                blocks.append(section(text))
    if n.questions:
        lines = ["*Get ahead of these buyer questions*"] + [f"• {escape(q.text)}" for q in n.questions]
        blocks += sections("\n".join(lines))
    if n.exit_criteria or n.trigger_out:
        lines = ["*Aim for (exit criteria)*"] + [f"• {escape(c)}" for c in n.exit_criteria]
        if n.trigger_out:
            lines.append(f"• moves on when: {escape(n.trigger_out)}")
        blocks += sections("\n".join(lines))
    blocks.append(context(f"Journey stage {escape(n.journey_stage_name or '')} · days in stage {_days(n)}"))
    fallback = [title] + [f"{p.persona_name}: " + ", ".join(a.title for a in p.assets) for p in n.stakeholders]
    return finish(fallback, blocks)
