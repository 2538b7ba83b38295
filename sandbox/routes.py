"""HubSpot endpoints over a Portal: paths, limits and JSON shapes the real client parses.

Every handler returns (status, body); the server adds auth, scopes, rate limits and
faults around them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sandbox.model import (
    ASSOCIATION_TYPE_IDS,
    ENGAGEMENT_TYPES,
    OBJECT_TYPES,
    CrmObject,
    Portal,
    format_value,
    ms_to_iso,
)
from sandbox.search import SearchError, run_search

Response = tuple[int, dict[str, Any]]
LIST_MAX = 100
HISTORY_MAX = 50
BATCH_MAX = 100
ASSOC_BATCH_MAX = 1000
ASSOC_PAGE = 500
DEFAULT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "deals": ("dealname", "amount", "closedate", "pipeline", "dealstage"),
    "companies": ("name", "domain"),
    "contacts": ("firstname", "lastname", "email"),
}
ALWAYS = ("createdate", "hs_lastmodifieddate", "hs_object_id")
# HubSpot-defined engagement <-> contact association type ids (contact->call 193, call->contact 194, ...).
ENGAGEMENT_CONTACT_TYPE_IDS: dict[tuple[str, str], int] = {
    pair: type_id
    for kind, base in (("calls", 193), ("emails", 197), ("meetings", 199), ("notes", 201), ("tasks", 203))
    for pair, type_id in ((("contacts", kind), base), ((kind, "contacts"), base + 1))
}


def error(status: int, message: str, category: str = "VALIDATION_ERROR", **extra: Any) -> Response:
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category}
    body.update(extra)
    return status, body


def not_found(message: str = "resource not found") -> Response:
    return error(404, message, "OBJECT_NOT_FOUND")


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def split_names(values: list[str] | None) -> list[str]:
    """Query properties arrive repeated (`properties=a&properties=b`) or comma-joined."""
    out: list[str] = []
    for value in values or []:
        out.extend(p for p in value.split(",") if p)
    return out


def serialize(obj: CrmObject, object_type: str, props: list[str], history: list[str]) -> dict[str, Any]:
    names = list(props) if props else list(DEFAULT_PROPERTIES.get(object_type, ()))
    out_props: dict[str, str | None] = {}
    for name in (*names, *ALWAYS):
        out_props[name] = str(obj.id) if name == "hs_object_id" else obj.text(name)
    body: dict[str, Any] = {
        "id": str(obj.id), "properties": out_props, "createdAt": ms_to_iso(obj.created_ms),
        "updatedAt": ms_to_iso(obj.updated_ms), "archived": obj.archived,
    }
    if history:
        body["propertiesWithHistory"] = {
            name: [
                {"value": value, "timestamp": ms_to_iso(ts), "sourceType": "CRM_UI", "sourceId": "userId:1"}
                for value, ts in reversed(_history(obj, name))
            ]
            for name in history
        }
    return body


def _history(obj: CrmObject, name: str) -> list[tuple[str, int]]:
    if name in obj.history:
        return obj.history[name]
    value = obj.properties.get(name)
    return [] if value is None else [(format_value(value), obj.updated_ms)]


def list_objects(portal: Portal, object_type: str, query: dict[str, list[str]]) -> Response:
    limit = int(query.get("limit", ["10"])[0])
    if limit < 1 or limit > LIST_MAX:
        return error(400, f"limit must be between 1 and {LIST_MAX}")
    history = split_names(query.get("propertiesWithHistory"))
    if history:
        limit = min(limit, HISTORY_MAX)
    archived = query.get("archived", ["false"])[0].lower() == "true"
    after = int(query.get("after", ["0"])[0] or 0)
    pool = [o for o in portal.objects[object_type].values() if o.archived == archived]
    page = pool[after:after + limit]
    props = split_names(query.get("properties"))
    body: dict[str, Any] = {"results": [serialize(o, object_type, props, history) for o in page]}
    if after + limit < len(pool):
        nxt = str(after + limit)
        body["paging"] = {"next": {"after": nxt, "link": f"/crm/v3/objects/{object_type}?after={nxt}"}}
    return 200, body


def get_object(portal: Portal, object_type: str, object_id: str, query: dict[str, list[str]]) -> Response:
    obj = portal.objects[object_type].get(int(object_id)) if object_id.isdigit() else None
    if obj is None or obj.archived:
        return not_found("Object not found.  objectId are usually numeric.")
    props = split_names(query.get("properties"))
    return 200, serialize(obj, object_type, props, split_names(query.get("propertiesWithHistory")))


def batch_read(portal: Portal, object_type: str, body: dict[str, Any]) -> Response:
    inputs = body.get("inputs") or []
    history = body.get("propertiesWithHistory") or []
    cap = HISTORY_MAX if history else BATCH_MAX
    if len(inputs) > cap:
        return error(400, f"Batch input size {len(inputs)} exceeds the limit of {cap}")
    store = portal.objects[object_type]
    results, missing = [], []
    for item in inputs:
        key = str(item.get("id", ""))
        obj = store.get(int(key)) if key.isdigit() else None
        if obj is None or obj.archived:
            missing.append(key)
        else:
            results.append(serialize(obj, object_type, body.get("properties") or [], history))
    out: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": _now_iso(),
                           "completedAt": _now_iso()}
    if missing:
        out["numErrors"] = 1
        out["errors"] = [{"status": "error", "category": "OBJECT_NOT_FOUND",
                          "message": "Could not get some objects, they may be deleted or not exist.",
                          "context": {"ids": missing}}]
        return 207, out
    return 200, out


def search(portal: Portal, object_type: str, body: dict[str, Any]) -> Response:
    def associated(obj: CrmObject, to_type: str) -> list[int]:
        plural = to_type if to_type.endswith("s") else (to_type[:-1] + "ies" if to_type.endswith("y") else to_type + "s")
        return portal.associated(object_type, plural, obj.id)
    try:
        page = run_search(portal.objects[object_type].values(), body, associated)
    except (SearchError, ValueError) as exc:
        return error(400, str(exc))
    props = body.get("properties") or []
    out: dict[str, Any] = {"total": page.total, "results": [serialize(o, object_type, props, []) for o in page.results]}
    if page.next_after is not None:
        out["paging"] = {"next": {"after": page.next_after, "link": None}}
    return 200, out


def pipelines(portal: Portal, object_type: str, pipeline_id: str | None) -> Response:
    if object_type != "deals":
        return 200, {"results": []}
    stamp = ms_to_iso(portal.now_ms - 800 * 86_400_000)
    results = []
    for pipe in portal.pipelines:
        stages = [
            {"id": s.id, "label": s.label, "displayOrder": i, "archived": False, "createdAt": stamp,
             "updatedAt": stamp, "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
             "metadata": {"probability": str(s.probability), "isClosed": "true" if s.is_closed else "false"}}
            for i, s in enumerate(pipe.stages)
        ]
        results.append({"id": pipe.id, "label": pipe.label, "displayOrder": pipe.display_order,
                        "archived": False, "createdAt": stamp, "updatedAt": stamp, "stages": stages})
    if pipeline_id is not None:
        match = [p for p in results if p["id"] == pipeline_id]
        return (200, match[0]) if match else not_found("Pipeline not found")
    return 200, {"results": results}


def owners(portal: Portal, query: dict[str, list[str]]) -> Response:
    limit = int(query.get("limit", ["100"])[0])
    if limit < 1 or limit > 500:
        return error(400, "limit must be between 1 and 500")
    after = int(query.get("after", ["0"])[0] or 0)
    email = query.get("email", [None])[0]
    pool = [o for o in portal.owners if email is None or o.email == email]
    stamp = ms_to_iso(portal.now_ms - 900 * 86_400_000)
    results = [{"id": str(o.id), "email": o.email, "firstName": o.first_name, "lastName": o.last_name,
                "userId": o.user_id, "userIdIncludingInactive": o.user_id, "type": "PERSON", "createdAt": stamp,
                "updatedAt": stamp, "archived": False, "teams": []} for o in pool[after:after + limit]]
    body: dict[str, Any] = {"results": results}
    if after + limit < len(pool):
        body["paging"] = {"next": {"after": str(after + limit), "link": None}}
    return 200, body


def _assoc_items(from_type: str, to_type: str, ids: list[int]) -> list[dict[str, Any]]:
    type_id = ASSOCIATION_TYPE_IDS.get((from_type, to_type)) or ENGAGEMENT_CONTACT_TYPE_IDS.get((from_type, to_type), 0)
    spec = [{"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}]
    return [{"toObjectId": i, "associationTypes": spec} for i in ids]


def association_page(portal: Portal, from_type: str, object_id: str, to_type: str,
                     query: dict[str, list[str]]) -> Response:
    if from_type not in OBJECT_TYPES or to_type not in OBJECT_TYPES:
        return error(400, f"Unknown object type {from_type} or {to_type}")
    limit = min(int(query.get("limit", [str(ASSOC_PAGE)])[0]), ASSOC_PAGE)
    after = int(query.get("after", ["0"])[0] or 0)
    ids = portal.associated(from_type, to_type, int(object_id)) if object_id.isdigit() else []
    body: dict[str, Any] = {"results": _assoc_items(from_type, to_type, ids[after:after + limit])}
    if after + limit < len(ids):
        body["paging"] = {"next": {"after": str(after + limit), "link": None}}
    return 200, body


def association_batch(portal: Portal, from_type: str, to_type: str, body: dict[str, Any]) -> Response:
    if from_type not in OBJECT_TYPES or to_type not in OBJECT_TYPES:
        return error(400, f"Unknown object type {from_type} or {to_type}")
    inputs = body.get("inputs") or []
    if len(inputs) > ASSOC_BATCH_MAX:
        return error(400, f"Batch input size {len(inputs)} exceeds the limit of {ASSOC_BATCH_MAX}")
    results = []
    for item in inputs:
        key = str(item.get("id", ""))
        ids = portal.associated(from_type, to_type, int(key)) if key.isdigit() else []
        if not ids:
            continue
        entry: dict[str, Any] = {"from": {"id": key}, "to": _assoc_items(from_type, to_type, ids[:ASSOC_PAGE])}
        if len(ids) > ASSOC_PAGE:
            entry["paging"] = {"next": {"after": str(ASSOC_PAGE), "link": None}}
        results.append(entry)
    return 200, {"status": "COMPLETE", "results": results, "startedAt": _now_iso(), "completedAt": _now_iso()}


_ENUMS = {"hs_buying_role", "lifecyclestage", "dealstage", "pipeline", "industry", "hs_task_status"}


def properties(portal: Portal, object_type: str) -> Response:
    """Definitions inferred from the data. Like real portals, hs_v2_* stage props are not listed."""
    seen: dict[str, str] = {}
    options: dict[str, set[str]] = {}
    for n, obj in enumerate(portal.objects[object_type].values()):
        if n >= 400:
            break
        for name, value in obj.properties.items():
            if name.startswith("hs_v2_"):
                continue
            kind = "datetime" if isinstance(value, int) else ("date" if name.endswith("_date") else "string")
            if name in _ENUMS:
                kind = "enumeration"
                options.setdefault(name, set()).update(str(value).split(";"))
            elif kind == "string" and str(value).replace(".", "", 1).isdigit() and name not in ("phone",):
                kind = "number"
            seen.setdefault(name, kind)
    results = [
        {"name": name, "label": name.replace("_", " ").title(), "type": kind, "description": "",
         "fieldType": {"enumeration": "select", "datetime": "date", "date": "date", "number": "number"}.get(kind, "text"),
         "groupName": f"{object_type[:-1]}information", "hidden": False, "hubspotDefined": not name.startswith("jb_"),
         "options": [{"label": v.replace("_", " ").title(), "value": v, "hidden": False, "displayOrder": i}
                     for i, v in enumerate(sorted(options.get(name, ())))]}
        for name, kind in sorted(seen.items())
    ]
    return 200, {"results": results}


def _target_types(from_type: str) -> dict[int, str]:
    """Association type id -> the object type it points to, for records made by create."""
    out = {type_id: to for (src, to), type_id in ASSOCIATION_TYPE_IDS.items() if src == from_type}
    out.update({type_id: to for (src, to), type_id in ENGAGEMENT_CONTACT_TYPE_IDS.items() if src == from_type})
    return out


def create_object(portal: Portal, object_type: str, body: dict[str, Any]) -> Response:
    """POST /crm/v3/objects/{type}: a new record with its associations (HUBSPOT_DEFINED type
    ids); engagements need hs_timestamp, as in HubSpot. 201 with the record as served."""
    props = {str(k): str(v) for k, v in (body.get("properties") or {}).items() if v is not None}
    if object_type in ENGAGEMENT_TYPES and not props.get("hs_timestamp"):
        return error(400, "Property values were not valid: hs_timestamp is required")
    targets = _target_types(object_type)
    links: list[tuple[str, int]] = []
    for item in body.get("associations") or []:
        to_id = str((item.get("to") or {}).get("id", ""))
        for spec in item.get("types") or []:
            to_type = targets.get(int(spec.get("associationTypeId") or 0))
            if to_type is None or not to_id.isdigit() or int(to_id) not in portal.objects[to_type]:
                return error(400, f"Invalid association to {to_id!r} (type {spec.get('associationTypeId')})")
            links.append((to_type, int(to_id)))
    kinds = ENGAGEMENT_TYPES if object_type in ENGAGEMENT_TYPES else (object_type,)
    new_id = max(max(portal.objects[k], default=0) for k in kinds) + 1
    stamp = max(portal.now_ms, int(dt.datetime.now(dt.UTC).timestamp() * 1000))
    values: dict[str, str | int] = {**props, "hs_object_id": str(new_id), "hs_createdate": stamp,
                                    "hs_lastmodifieddate": stamp}
    obj = CrmObject(new_id, values, stamp, stamp)
    portal.objects[object_type][new_id] = obj
    for to_type, target in links:
        portal.associations.setdefault((object_type, to_type), {}).setdefault(new_id, []).append(target)
        portal.associations.setdefault((to_type, object_type), {}).setdefault(target, []).append(new_id)
    return 201, serialize(obj, object_type, list(props), [])


def required_scope(object_type: str) -> str:
    """The read scope an object type needs (engagements: the contacts scope; not confirmed)."""
    if object_type in ENGAGEMENT_TYPES:
        return "crm.objects.contacts.read"
    return f"crm.objects.{object_type}.read"


def write_scope(object_type: str) -> str:
    """The write scope: HubSpot's notes (and other engagement) API asks for the contacts one."""
    return required_scope(object_type).removesuffix(".read") + ".write"
