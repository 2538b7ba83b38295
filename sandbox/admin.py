"""The sandbox's own admin endpoints (not HubSpot's): move a deal, let time pass.

They sit under a prefix HubSpot never uses and take the same bearer token as the rest,
so a demo or test drives them with the credentials it already has.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox import routes
from sandbox.model import iso_to_ms
from sandbox.stage_moves import StageMoveError

if TYPE_CHECKING:
    from sandbox.server import SandboxServer

PREFIX = "/_sandbox"  # HubSpot's paths never start with an underscore


def move(server: SandboxServer, deal_id: str, body: dict[str, Any]) -> routes.Response:
    """POST {PREFIX}/deals/{id}/stage {"stage": "<stage id>", "at": "<ISO time>"?}."""
    stage, at = body.get("stage"), body.get("at")
    if not isinstance(stage, str) or not stage or not (at is None or isinstance(at, str)):
        return routes.error(400, 'Body must be {"stage": "<stage id>"} with an optional "at" (ISO time)')
    try:
        at_ms = iso_to_ms(at) if at is not None else None
    except ValueError as exc:
        return routes.error(400, f"Invalid 'at': {exc}")
    try:
        done = server.move_deal(int(deal_id), stage, at_ms)
    except StageMoveError as exc:
        return routes.error(404, str(exc), "OBJECT_NOT_FOUND") if exc.missing else routes.error(400, str(exc))
    return 200, done.to_dict()


def advance(server: SandboxServer, body: dict[str, Any]) -> routes.Response:
    """POST {PREFIX}/deals/advance {"count": n, "seed": s?}: n random open deals one stage on."""
    count, seed = body.get("count", 1), body.get("seed")
    if type(count) is not int or count < 1 or not (seed is None or type(seed) is int):
        return routes.error(400, 'Body must be {"count": <positive integer>} with an optional integer "seed"')
    return 200, {"moves": [m.to_dict() for m in server.advance_deals(count, seed=seed)]}
