"""App Home's personal part: the viewer's open deals (CRM stage, days vs the journey
stage's target, the next content to send) and their nudge settings."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.blocks.common import context, divider, escape, link, section
from bot.blocks.nudges import settings_blocks
from skills import figures
from skills.my_deals import MyOpenDeals, OpenDealLine
from skills.nudges import NudgeSettings


def _days(line: OpenDealLine) -> str:
    days = "days in stage unknown" if line.days_in_stage is None else f"{line.days_in_stage:.0f} days in stage"
    if line.target_days is None:
        return days + (" (no journey stage: no target)" if line.journey_stage is None else "")
    flag = " ⚠️ over target" if line.over_target else ""
    return f"{days} vs target {line.target_days:g}{flag}"


def _deal(line: OpenDealLine) -> str:
    stage = escape(line.stage_label) + (f" → {escape(line.journey_stage)}" if line.journey_stage else "")
    text = [f"*{escape(line.name)}* · {stage} · {_days(line)}"]
    nxt = line.next_content
    if nxt is not None:
        whom = f"for the missing {escape(nxt.for_whom)}" if nxt.missing else f"for {escape(nxt.for_whom)}"
        text.append(f"Next: {link(nxt.url, nxt.title)} {whom}")
    return "\n".join(text)


def my_deals_blocks(deals: MyOpenDeals | None, note: str = "") -> list[Block]:
    """The list (already bounded, most overdue first) and how many more; or the one-line
    note saying why there is none (no CRM, CRM down, no matching owner)."""
    blocks: list[Block] = [section("*My open deals*")]
    if deals is None:
        blocks.append(context(escape(note)))
        return blocks
    if not deals.deals:
        blocks.append(context("You own no open deals in HubSpot."))
        return blocks
    blocks += [section(_deal(line)) for line in deals.deals]
    more = f"{deals.more} more open deal{'s' if deals.more != 1 else ''} not shown · " if deals.more else ""
    blocks.append(context(f"{more}{figures.as_of(deals.as_of)}"))
    return blocks


def nudge_blocks(settings: NudgeSettings) -> list[Block]:
    return [divider(), section("*My nudges*"), *settings_blocks(settings)]
