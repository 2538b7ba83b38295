"""Raw reads through hubspot-api-client: full pages, batches, windowed search, associations.

Everything returns `SnapshotRow`s (raw property strings) so the same rows feed the
domain records and the local snapshot. Sizes are HubSpot's maxima: 100 per list page,
100 per batch read (50 with history), 200 per search page, 1,000 ids per association
batch read.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from hubspot import HubSpot

from config.settings import Settings
from skills.crm.client import Transport
from skills.crm.errors import CrmError
from storage.crm_snapshot import SnapshotRow

Progress = Callable[[str, int], None]
SEARCH_CAP = 10_000
HISTORY_BATCH = 50
ASSOC_BATCH = 1000
ASSOC_PAGE = 500
LAST_MODIFIED = {"contacts": "lastmodifieddate"}  # every other type: hs_lastmodifieddate
_PACKAGES = {"deals": "hubspot.crm.deals", "companies": "hubspot.crm.companies",
             "contacts": "hubspot.crm.contacts"}


def _api(client: HubSpot, object_type: str) -> Any:
    if object_type in _PACKAGES:
        return getattr(client.crm, object_type)
    return getattr(client.crm.objects, object_type)


def _models(object_type: str) -> Any:
    return importlib.import_module(_PACKAGES.get(object_type, f"hubspot.crm.objects.{object_type}"))


def to_row(obj: Any) -> SnapshotRow:
    """A client model (SimplePublicObject...) as plain strings."""
    history = None
    if getattr(obj, "properties_with_history", None):
        history = {
            name: [(v.value, v.timestamp.isoformat()) for v in values or []]
            for name, values in obj.properties_with_history.items()
        }
    updated = obj.updated_at
    return SnapshotRow(str(obj.id), dict(obj.properties or {}), history,
                       int(updated.timestamp() * 1000) if updated else 0)


class Fetcher:
    """Paging and batching; every call goes through the Transport (limits, retries)."""

    def __init__(self, settings: Settings, transport: Transport) -> None:
        self.settings = settings
        self.transport = transport
        self.client = transport.client
        self._apis: dict[tuple[str, str], Any] = {}

    def _api(self, object_type: str, name: str) -> Any:
        """One generated API object per type and kind for the fetcher's life: the client
        builds a new one (and resets its loggers, ~1 ms) on every attribute access."""
        key = (object_type, name)
        if key not in self._apis:
            self._apis[key] = getattr(_api(self.client, object_type), name)
        return self._apis[key]

    def list_all(self, object_type: str, properties: Sequence[str], progress: Progress | None = None,
                 limit: int | None = None) -> list[SnapshotRow]:
        """Every unarchived object, following `after` until HubSpot says there is no more."""
        api = self._api(object_type, "basic_api")
        rows: list[SnapshotRow] = []
        after: str | None = None
        size = limit or self.settings.hubspot_page_size
        while True:
            page = self.transport.call(f"list:{object_type}", api.get_page, limit=size, after=after,
                                       properties=list(properties), archived=False)
            rows.extend(to_row(o) for o in page.results)
            if progress:
                progress(object_type, len(rows))
            nxt = page.paging.next.after if page.paging and page.paging.next else None
            if not nxt or limit is not None:
                return rows
            if nxt == after or not page.results:
                raise CrmError(f"HubSpot paging for {object_type} did not advance (after={nxt}).")
            after = nxt

    def batch_read(self, object_type: str, ids: Sequence[str], properties: Sequence[str],
                   history: Sequence[str] = ()) -> list[SnapshotRow]:
        """Objects by id, 100 per call (50 when property history is asked for)."""
        api = self._api(object_type, "batch_api")
        models = _models(object_type)
        step = HISTORY_BATCH if history else self.settings.hubspot_batch_size
        rows: list[SnapshotRow] = []
        for start in range(0, len(ids), step):
            body = models.BatchReadInputSimplePublicObjectId(
                inputs=[models.SimplePublicObjectId(id=str(i)) for i in ids[start:start + step]],
                properties=list(properties), properties_with_history=list(history) or None)
            result = self.transport.call(f"batch_read:{object_type}", api.read,
                                         batch_read_input_simple_public_object_id=body, archived=False)
            rows.extend(to_row(o) for o in result.results)
        return rows

    def search(self, object_type: str, filters: list[dict[str, Any]], properties: Sequence[str], *,
               sort: str = "hs_object_id", limit: int | None = None, after: str | None = None) -> Any:
        models = _models(object_type)
        request = models.PublicObjectSearchRequest(
            filter_groups=[{"filters": filters}] if filters else [],
            sorts=[{"propertyName": sort, "direction": "ASCENDING"}],
            properties=list(properties), limit=limit or self.settings.hubspot_search_page_size, after=after)
        api = self._api(object_type, "search_api")
        return self.transport.call(f"search:{object_type}", api.do_search, search=True,
                                   public_object_search_request=request)

    def count(self, object_type: str) -> int:
        return int(self.search(object_type, [], ["hs_object_id"], limit=1).total)

    def modified_since(self, object_type: str, since_ms: int, properties: Sequence[str],
                       progress: Progress | None = None) -> list[SnapshotRow]:
        """Objects modified at or after `since_ms`, past the 10,000-result cap: keyset windows
        on hs_object_id (filter id > last id seen, sorted by id) restart before each cap."""
        prop = LAST_MODIFIED.get(object_type, "hs_lastmodifieddate")
        size = self.settings.hubspot_search_page_size
        rows: list[SnapshotRow] = []
        last_id = 0
        while True:
            after: str | None = None
            filters = [{"propertyName": prop, "operator": "GTE", "value": str(since_ms)},
                       {"propertyName": "hs_object_id", "operator": "GT", "value": str(last_id)}]
            in_window = 0
            while True:
                page = self.search(object_type, filters, properties, after=after)
                rows.extend(to_row(o) for o in page.results)
                in_window += len(page.results)
                if page.results:
                    last_id = max(last_id, max(int(o.id) for o in page.results))
                if progress:
                    progress(object_type, len(rows))
                nxt = page.paging.next.after if page.paging and page.paging.next else None
                if not nxt or int(nxt) + size > SEARCH_CAP:
                    break
                after = nxt
            if in_window >= int(page.total) or not page.results:
                return rows
            # The window hit the cap with more to come: a new window starts after last_id.

    def associations(self, from_type: str, to_type: str, ids: Iterable[str]) -> dict[str, list[str]]:
        """v4 batch read, 1,000 ids per call; long lists are completed page by page."""
        wanted = list(dict.fromkeys(str(i) for i in ids))
        out: dict[str, list[str]] = {i: [] for i in wanted}
        if ("associations", "batch_api") not in self._apis:
            self._apis[("associations", "batch_api")] = self.client.crm.associations.v4.batch_api
        batch = self._apis[("associations", "batch_api")]
        for start in range(0, len(wanted), ASSOC_BATCH):
            # Plain JSON both ways: the client's models (built and validated per id, then
            # deserialised per link) cost seconds of CPU for what is a list of ids.
            body = {"inputs": [{"id": i} for i in wanted[start:start + ASSOC_BATCH]]}
            raw = self.transport.call(f"assoc_batch:{from_type}->{to_type}", batch.get_page,
                                      from_type, to_type, body, _preload_content=False)
            try:
                payload = json.loads(raw.data or b"{}")
            finally:
                raw.release_conn()
            for item in payload.get("results", []):
                key = str(item["from"]["id"])
                out.setdefault(key, []).extend(str(t["toObjectId"]) for t in item.get("to", []))
                nxt = ((item.get("paging") or {}).get("next") or {}).get("after")
                if nxt:
                    out[key].extend(self._association_pages(from_type, key, to_type, str(nxt)))
        return {k: list(dict.fromkeys(v)) for k, v in out.items()}

    def _association_pages(self, from_type: str, object_id: str, to_type: str, after: str) -> list[str]:
        basic = self.client.crm.associations.v4.basic_api
        found: list[str] = []
        cursor: str | None = after
        while cursor:
            page = self.transport.call(f"assoc_list:{from_type}->{to_type}", basic.get_page, from_type,
                                       object_id, to_type, after=cursor, limit=ASSOC_PAGE)
            found.extend(str(t.to_object_id) for t in page.results)
            cursor = page.paging.next.after if page.paging and page.paging.next else None
        return found

    def pipelines(self) -> list[Any]:
        api = self.client.crm.pipelines.pipelines_api
        return list(self.transport.call("pipelines:deals", api.get_all, object_type="deals").results)

    def owners(self) -> list[Any]:
        api = self.client.crm.owners.owners_api
        found: list[Any] = []
        after: str | None = None
        while True:
            page = self.transport.call("owners", api.get_page, limit=100, after=after, archived=False)
            found.extend(page.results)
            after = page.paging.next.after if page.paging and page.paging.next else None
            if not after:
                return found

    def get(self, object_type: str, object_id: str, properties: Sequence[str],
            history: Sequence[str] = ()) -> SnapshotRow:
        api = self._api(object_type, "basic_api")
        obj = self.transport.call(f"get:{object_type}", api.get_by_id, str(object_id),
                                  properties=list(properties), properties_with_history=list(history) or None)
        return to_row(obj)

    def property_names(self, object_type: str) -> list[str]:
        api = self.client.crm.properties.core_api
        return [p.name for p in self.transport.call(f"properties:{object_type}", api.get_all,
                                                     object_type=object_type).results]
