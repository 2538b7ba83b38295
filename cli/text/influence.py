"""`influence` as plain text: per asset, each stage it went out at with both rates and
their counts, and the deals it was sent on."""

from __future__ import annotations

from cli.text import text_for
from skills import figures
from skills.influence_report import InfluenceReport

DEALS_SHOWN = 8


@text_for(InfluenceReport)
def render(result: InfluenceReport) -> str:
    lines = [f"Content influence, last {result.days} days: {result.sends} sends on "
             f"{sum(a.deals_sent for a in result.assets)} deal stages, {len(result.assets)} assets",
             figures.as_of(result.generated_at)]
    if result.unmatched_sends:
        lines.append(f"{result.unmatched_sends} sends left out: the deal is gone from the CRM or its stage entry "
                     "is unknown.")
    if not result.assets:
        lines.append("Nothing recorded yet: reps record a send with “Sent it” on a deal answer or a nudge.")
        return "\n".join(lines)
    return "\n".join(lines + asset_lines(result))


def asset_lines(result: InfluenceReport, *, with_deals: bool = True) -> list[str]:
    """Per asset, each stage's two rates with counts (and the deals it went out on)."""
    lines = [f"Converted = reached a later stage or won. Compared only with {result.min_deals}+ deals per side."]
    for asset in result.assets:
        lines += ["", f"{asset.title} ({asset.asset_id})"]
        for row in asset.stages:
            journey = f" / {row.journey_stage_name}" if row.journey_stage_name else ""
            lines.append(f"  at {row.stage_label}{journey}: {row.comparison(result.min_deals)}")
            if with_deals:
                names = [f"{d.name}{' ✓' if d.converted else ''}" for d in row.deals[:DEALS_SHOWN]]
                more = f" and {len(row.deals) - DEALS_SHOWN} more" if len(row.deals) > DEALS_SHOWN else ""
                lines.append(f"    sent on: {', '.join(names)}{more}")
    return lines
