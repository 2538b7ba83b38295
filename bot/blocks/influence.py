"""`influence` for Slack: one section per asset, each stage it went out at with both
conversion rates and their counts side by side ("3/4 (75%) vs 10/40 (25%)"), and a
note where too few deals make the comparison meaningless. Also the short section the
gap audit shows."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.blocks.common import context, escape, finish, fit_groups, footer, header, link, rerun_ref, sections
from bot.blocks.rendering import RenderOptions, renders
from bot.message import MAX_BLOCKS, SlackMessage
from skills import figures
from skills.influence_report import AssetInfluence, InfluenceReport

DEALS_SHOWN = 6
GAP_SECTION_ASSETS = 5


def asset_text(asset: AssetInfluence, min_deals: int, *, with_deals: bool = True) -> str:
    title = link(asset.url, asset.title) if asset.url else f"*{escape(asset.title)}*"
    lines = [f"{title} — sent on {asset.deals_sent} deal stage{'s' if asset.deals_sent != 1 else ''}"]
    for row in asset.stages:
        journey = f" ({escape(row.journey_stage_name)})" if row.journey_stage_name else ""
        mark = "" if row.comparable else " ⚠️"
        lines.append(f"• at *{escape(row.stage_label)}*{journey}: {escape(row.comparison(min_deals))}{mark}")
        if with_deals and row.deals:
            names = ", ".join(escape(d.name) + (" ✓" if d.converted else "") for d in row.deals[:DEALS_SHOWN])
            more = f" +{len(row.deals) - DEALS_SHOWN} more" if len(row.deals) > DEALS_SHOWN else ""
            lines.append(f"   _sent on:_ {names}{more}")
    return "\n".join(lines)


def legend(result: InfluenceReport) -> str:
    return (f"Converted = reached a later stage or won, from the stage the asset was sent at; “without” = deals that "
            f"entered the same stage in the last {result.days} days without it. ⚠️ = under {result.min_deals} deals "
            "on a side: too few to compare.")


def render(result: InfluenceReport, *, ephemeral: bool = False) -> SlackMessage:
    blocks: list[Block] = [header(f"Content influence, last {result.days} days"),
                           context(f"{result.sends} sends · {len(result.assets)} assets · "
                                   f"{figures.as_of(result.generated_at)}")]
    if not result.assets:
        blocks += sections("Nothing recorded yet: reps record a send with *Sent it* on a deal answer or a nudge.")
    else:
        blocks.append(context(legend(result)))
        room = MAX_BLOCKS - len(blocks) - 3
        body, used = fit_groups([sections(asset_text(a, result.min_deals)) for a in result.assets], room)
        blocks += body
        if used < len(result.assets):
            blocks.append(context(f"… {len(result.assets) - used} more assets: `journeybot influence --json`"))
    if result.unmatched_sends:
        blocks.append(context(f"{result.unmatched_sends} sends left out: the deal is gone from the CRM or its stage "
                              "entry is unknown."))
    blocks += footer("influence", rerun_ref(("days", str(result.days)), ("min_deals", str(result.min_deals))),
                     ephemeral=ephemeral)
    text = [f"Content influence, last {result.days} days: {result.sends} sends, {len(result.assets)} assets"]
    text += [f"{a.title}: " + "; ".join(r.comparison(result.min_deals) for r in a.stages) for a in result.assets[:10]]
    return finish(text, blocks)


def gap_section(result: InfluenceReport) -> list[Block]:
    """The gap audit's short view: the most-sent assets, rates with counts, no deal lists."""
    if not result.assets:
        return []
    top = result.assets[:GAP_SECTION_ASSETS]
    text = "*Content influence* (what reps sent and how those deals moved)\n" + "\n".join(
        asset_text(a, result.min_deals, with_deals=False) for a in top)
    more = len(result.assets) - len(top)
    return [*sections(text), context(legend(result) + (f" {more} more assets: `/journey influence`." if more else ""))]


@renders(InfluenceReport)
def _influence(result: InfluenceReport, options: RenderOptions) -> SlackMessage:
    return render(result, ephemeral=options.ephemeral)
