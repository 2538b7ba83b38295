"""Expected values computed straight from the generator's records (no gateway code)."""

from __future__ import annotations

import datetime as dt

from sandbox.model import Portal
from skills.crm.records import Deal

MS = 1000


def _ms(value: dt.datetime | None) -> int | None:
    return None if value is None else round(value.timestamp() * MS)


def expected_deals(portal: Portal) -> dict[str, tuple[object, ...]]:
    out = {}
    for d in portal.records("deals"):
        p = d.properties
        path = tuple((s, t_in, t_out) for s, t_in, t_out in portal.deal_paths[d.id])
        out[str(d.id)] = (p["dealname"], float(str(p["amount"])), p["pipeline"], p["dealstage"],
                          p["hubspot_owner_id"], p["hs_is_closed"] == "true", p["hs_is_closed_won"] == "true", path)
    return out


def actual_deal(deal: Deal) -> tuple[object, ...]:
    path = tuple((s.stage_id, _ms(s.entered_at), _ms(s.exited_at)) for s in deal.stage_times)
    return (deal.name, deal.amount, deal.pipeline_id, deal.stage_id, deal.owner_id, deal.is_closed, deal.is_won, path)


def check_deals(deals: list[Deal], portal: Portal) -> None:
    want = expected_deals(portal)
    assert [d.id for d in deals] == list(want)
    for deal in deals:
        assert actual_deal(deal) == want[deal.id], deal.id
