"""The CRM names the understanding step matches against, from the gateway's snapshot
(which reads only what changed since the last sync), refreshed at most every few minutes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from skills.names import NameDirectory, NamedRecord, core_tokens, name_tokens

if TYPE_CHECKING:
    from skills.crm import CrmGateway

log = logging.getLogger(__name__)
REFRESH_S = 300.0


def directory_from_crm(gateway: CrmGateway) -> NameDirectory:
    companies = [NamedRecord("company", c.id, c.name) for c in gateway.companies() if c.name]
    starts = sorted(((core_tokens(name_tokens(c.name)), c.id) for c in companies), key=lambda x: -len(x[0]))
    deals = []
    for deal in gateway.deals():
        tokens = core_tokens(name_tokens(deal.name))
        company = next((cid for ctoks, cid in starts if ctoks and tokens[: len(ctoks)] == ctoks), None)
        deals.append(NamedRecord("deal", deal.id, deal.name, company))
    owners = [NamedRecord("owner", o.id, o.name) for o in gateway.owners() if o.first_name or o.last_name]
    return NameDirectory.of([*companies, *deals, *owners])


class CrmNames:
    """A callable giving the current directory; a CRM failure keeps the last one (or an
    empty one), because understanding a message must not depend on HubSpot answering."""

    def __init__(self, gateway: Callable[[], CrmGateway] | None, refresh_s: float = REFRESH_S) -> None:
        self._gateway = gateway
        self._refresh_s = refresh_s
        self._directory = NameDirectory()
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    def __call__(self) -> NameDirectory:
        if self._gateway is None:
            return self._directory
        with self._lock:
            now = time.monotonic()
            if self._loaded_at is None or now - self._loaded_at > self._refresh_s:
                self._loaded_at = now
                try:
                    self._directory = directory_from_crm(self._gateway())
                except Exception as exc:  # noqa: BLE001 - any CRM trouble: keep the names we had
                    log.warning("could not refresh CRM names (%s); keeping %d known names",
                                type(exc).__name__, len(self._directory))
            return self._directory
