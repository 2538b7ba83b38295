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
    by_name = {core_tokens(name_tokens(c.name)): c.id for c in companies}
    longest = max((len(k) for k in by_name), default=0)
    deals = []
    for deal in gateway.deals():
        tokens = core_tokens(name_tokens(deal.name))
        # the company a deal's name starts with ("Northwind Traders - Platform"), longest first
        company = next((by_name[tokens[:n]] for n in range(min(longest, len(tokens)), 0, -1)
                        if tokens[:n] in by_name), None)
        deals.append(NamedRecord("deal", deal.id, deal.name, company))
    owners = [NamedRecord("owner", o.id, o.name) for o in gateway.owners() if o.first_name or o.last_name]
    return NameDirectory.of([*companies, *deals, *owners])


class CrmNames:
    """A callable giving the current directory. The first call loads it; later ones
    return at once and refresh it in the background when it is older than `refresh_s`,
    so a message never waits on a sync. A CRM failure keeps the names already known."""

    def __init__(self, gateway: Callable[[], CrmGateway], refresh_s: float = REFRESH_S) -> None:
        self._gateway = gateway
        self._refresh_s = refresh_s
        self._directory: NameDirectory | None = None
        self._loaded_at = 0.0
        self._refreshing = threading.Lock()

    def __call__(self) -> NameDirectory:
        if self._directory is None:
            with self._refreshing:
                if self._directory is None:
                    self._refresh()
        elif time.monotonic() - self._loaded_at > self._refresh_s and self._refreshing.acquire(blocking=False):
            threading.Thread(target=self._refresh_and_release, name="crm-names", daemon=True).start()
        return self._directory or NameDirectory()

    def _refresh_and_release(self) -> None:
        try:
            self._refresh()
        finally:
            self._refreshing.release()

    def _refresh(self) -> None:
        self._loaded_at = time.monotonic()
        try:
            self._directory = directory_from_crm(self._gateway())
        except Exception as exc:  # noqa: BLE001 - any CRM trouble: keep the names we had
            known = self._directory or NameDirectory()
            log.warning("could not refresh CRM names (%s); keeping %d known names", type(exc).__name__, len(known))
            self._directory = known
