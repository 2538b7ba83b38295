"""`influence`: which content moves deals. Reads the "Sent it" records (storage) and the
deals' stage history (the CRM gateway, through its snapshot) and builds the report in
skills.influence_report; the gap audit shows a short section of the same report."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from skills.context import SkillContext
from skills.influence_report import InfluenceReport, Send, build_influence
from skills.registry import Arg, Skill
from storage.content_sent import list_content_sent
from storage.engine import session_scope


def recorded_sends(engine: Engine) -> list[Send]:
    with session_scope(engine) as session:
        return [Send(r.deal_id, r.crm_stage_id, r.stage_entered_at, r.asset_id) for r in list_content_sent(session)]


def run_influence(ctx: SkillContext, days: int | None = None, min_deals: int | None = None) -> InfluenceReport:
    """Per asset and stage: deals it went out on and how they converted, vs the rest."""
    days = days or ctx.settings.influence_days
    min_deals = min_deals or ctx.settings.influence_min_deals
    sends = recorded_sends(ctx.engine)
    if not sends:  # nothing recorded yet: no CRM read needed to say so
        return build_influence([], [], [], ctx.journey_map, now=ctx.now, days=days, min_deals=min_deals)
    gateway = ctx.gateway
    return build_influence(sends, gateway.deals(), gateway.pipelines(), ctx.journey_map, now=ctx.now, days=days,
                           min_deals=min_deals)


SKILL = Skill(
    name="influence",
    help="Which content moves deals: per asset, conversion of the deals it was sent on vs the rest, with counts.",
    run=run_influence,
    args=(Arg("days", "how far back to look, days (default JOURNEYBOT_INFLUENCE_DAYS)", kind="int"),
          Arg("min_deals", "fewest deals per side to compare (default JOURNEYBOT_INFLUENCE_MIN_DEALS)", kind="int")),
    needs_crm=True,
    examples=("influence", "influence --days 90 --min_deals 10"),
    utterances=(
        "content influence report",
        "which content actually moves deals?",
        "does the content reps send help deals convert",
        "conversion of deals where we sent the case study vs where we didn't",
        "did sending the ROI calculator make a difference to conversion",
        "which of our sent assets correlate with won deals",
        "is our sales collateral making any difference to conversion",
        "content attribution: sent vs not sent",
        "what content converts best once reps send it",
        "which assets have the best conversion when reps send them",
        "influence of sent content on deal conversion",
        "which sent materials show up on winning deals",
        "what's working in the content we send, by conversion rate",
        "which pieces of collateral lift stage conversion",
        "report on assets sent and how those deals converted",
        "effect of sent content on win rate",
        "wich content influnces conversion",
        "content performance: deals that got it vs deals that didn't",
        "what did reps send and did it help conversion",
        "are the assets reps send paying off",
        "which asset should we double down on based on conversion",
        "compare conversion of deals that got our guide with deals that didn't",
        "content ROI: which sent assets drive conversion",
        "how did deals convert after reps sent content",
        "sent-it report",
        "how well do deals convert after the buyer's guide is sent",
        "does our content influence deal outcomes",
        "conversion lift from the content we sent last quarter",
        "hi, can you show which sent assets lift conversion to the next stage?",
        "content influence on closed won",
        "influence report please",
        "is sending the pricing one-pager linked to higher win rates",
        "what's the conversion with vs without each asset",
        "show content influence with the counts",
        "attribution of sent assets to deal progression",
        "which content do reps send on deals that convert",
    ),
)
