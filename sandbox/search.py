"""The CRM search endpoint's semantics: filter groups, one sort, paging and its caps.

The caps (200 per page, 10,000 results per query, 5 groups x 6 filters / 18 in all,
one sort) are enforced exactly because the gateway's windowing exists to live
within them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sandbox.model import CrmObject, PropValue, iso_to_ms

MAX_LIMIT = 200
MAX_RESULTS = 10_000
MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18
OPERATORS = {"EQ", "NEQ", "GT", "GTE", "LT", "LTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY",
             "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}

AssociatedLookup = Callable[[CrmObject, str], list[int]]


class SearchError(ValueError):
    """A request HubSpot would reject with 400 VALIDATION_ERROR."""


@dataclass(frozen=True, slots=True)
class SearchPage:
    total: int
    results: list[CrmObject]
    next_after: str | None


def _coerce(stored: PropValue | None, raw: Any) -> Any:
    """Compare like HubSpot: datetimes as ms, numbers as numbers, text case-insensitively."""
    if raw is None:
        return None
    text = str(raw)
    if isinstance(stored, int):
        try:
            return int(float(text))
        except ValueError:
            try:
                return iso_to_ms(text)
            except ValueError:
                return text.lower()
    try:
        return float(text)
    except ValueError:
        return text.lower()


def _value(obj: CrmObject, name: str) -> PropValue | None:
    return str(obj.id) if name == "hs_object_id" else obj.properties.get(name)


def _match(obj: CrmObject, flt: dict[str, Any], associated: AssociatedLookup) -> bool:
    name = flt.get("propertyName")
    op = flt.get("operator")
    if not name or op not in OPERATORS:
        raise SearchError(f"Invalid filter: {flt!r}")
    if name.startswith("associations."):
        ids = {str(i) for i in associated(obj, name.split(".", 1)[1])}
        return bool((str(flt.get("value")) in ids) == (op == "EQ"))
    stored = _value(obj, name)
    if op == "HAS_PROPERTY":
        return stored not in (None, "")
    if op == "NOT_HAS_PROPERTY":
        return stored in (None, "")
    if stored in (None, ""):
        return op in ("NEQ", "NOT_IN", "NOT_CONTAINS_TOKEN")
    mine = _coerce(stored, stored)
    if op in ("IN", "NOT_IN"):
        values = {_coerce(stored, v) for v in flt.get("values") or []}
        return bool((mine in values) == (op == "IN"))
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = str(flt.get("value", "")).lower().strip("*")
        found = any(token in part for part in str(stored).lower().replace(";", " ").split())
        return bool(found == (op == "CONTAINS_TOKEN"))
    other = _coerce(stored, flt.get("value"))
    try:
        if op == "EQ":
            return bool(mine == other)
        if op == "NEQ":
            return bool(mine != other)
        if op == "GT":
            return bool(mine > other)
        if op == "GTE":
            return bool(mine >= other)
        if op == "LT":
            return bool(mine < other)
        if op == "LTE":
            return bool(mine <= other)
        high = _coerce(stored, flt.get("highValue"))
        return bool(other <= mine <= high)
    except TypeError:
        return False


def _sort_key(name: str) -> Callable[[CrmObject], tuple[int, Any]]:
    def key(obj: CrmObject) -> tuple[int, Any]:
        stored = _value(obj, name)
        if stored in (None, ""):
            return (2, 0)
        value = _coerce(stored, stored)
        return (0, value) if not isinstance(value, str) else (1, value)
    return key


def _parse_sort(body: dict[str, Any]) -> tuple[str, bool]:
    sorts = body.get("sorts") or []
    if len(sorts) > 1:
        raise SearchError("Only one sort is allowed")
    if not sorts:
        return "hs_object_id", False
    spec = sorts[0]
    if isinstance(spec, str):
        return spec.lstrip("-"), spec.startswith("-")
    return str(spec.get("propertyName")), str(spec.get("direction", "ASCENDING")).upper() == "DESCENDING"


def run_search(objects: Iterable[CrmObject], body: dict[str, Any], associated: AssociatedLookup) -> SearchPage:
    """Apply a search request body to the objects; raise SearchError for what HubSpot rejects."""
    limit = int(body.get("limit") or 10)
    if limit < 1 or limit > MAX_LIMIT:
        raise SearchError(f"limit must be between 1 and {MAX_LIMIT}")
    after = int(body.get("after") or 0)
    if after >= MAX_RESULTS:
        raise SearchError(f"Paging past {MAX_RESULTS} results is not supported; narrow the query")
    groups = body.get("filterGroups") or []
    if len(groups) > MAX_GROUPS:
        raise SearchError(f"At most {MAX_GROUPS} filter groups are allowed")
    counts = [len(g.get("filters") or []) for g in groups]
    if any(c > MAX_FILTERS_PER_GROUP for c in counts) or sum(counts) > MAX_FILTERS:
        raise SearchError(f"At most {MAX_FILTERS_PER_GROUP} filters per group and {MAX_FILTERS} in all")
    sort_name, descending = _parse_sort(body)
    if groups:
        def keep(o: CrmObject) -> bool:
            return any(all(_match(o, f, associated) for f in g.get("filters") or []) for g in groups)
        hits = [o for o in objects if not o.archived and keep(o)]
    else:
        hits = [o for o in objects if not o.archived]
    hits.sort(key=_sort_key(sort_name), reverse=descending)
    end = min(after + limit, len(hits), MAX_RESULTS)
    page = hits[after:end]
    more = end < len(hits) and end < MAX_RESULTS
    return SearchPage(total=len(hits), results=page, next_after=str(end) if more else None)
