"""CrmGateway: the only code that reads HubSpot. Returns typed records, never client models.

With an engine, object lists come through the local snapshot: the first run lists
everything, later runs search only what was modified since (plus an overlap for
HubSpot's search lag) and merge it in. Any failure raises; a partial list is never
returned as if it were complete.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from config.settings import Settings
from skills.crm import records as r
from skills.crm.client import CallStats, Transport
from skills.crm.errors import CrmAuthError, CrmError, CrmUnavailable
from skills.crm.fetch import Fetcher, Progress
from storage.crm_snapshot import (
    SnapshotRow,
    fetch_snapshot,
    fetch_snapshot_state,
    replace_snapshot,
    save_snapshot_objects,
    save_snapshot_state,
)
from storage.engine import session_scope

ENGAGEMENT_TYPES: tuple[str, ...] = ("calls", "emails", "meetings", "notes", "tasks")
ENGAGEMENT_PROPS = ("hs_timestamp", "hubspot_owner_id", "hs_call_title", "hs_email_subject", "hs_meeting_title",
                    "hs_note_body", "hs_task_subject", "hs_task_status")
_TITLES = {"calls": "hs_call_title", "emails": "hs_email_subject", "meetings": "hs_meeting_title",
           "notes": "hs_note_body", "tasks": "hs_task_subject"}
DEAL_PROPS = ("dealname", "amount", "pipeline", "dealstage", "createdate", "closedate", "hs_is_closed",
              "hs_is_closed_won", "hubspot_owner_id", "hs_lastmodifieddate")
CONTACT_PROPS = ("firstname", "lastname", "jobtitle", "lifecyclestage", "hubspot_owner_id",
                 "associatedcompanyid", "lastmodifieddate")


@dataclass
class CrmCheck:
    """What `journeybot crm check` reports. `token_ok` and `missing_scopes` are None when
    they could not be learnt (HubSpot unreachable; scopes behind a rejected token)."""

    token_ok: bool | None
    missing_scopes: list[str] | None = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    reachable: bool = True


class CrmGateway:
    """Typed, paced, retried, cached reads of one HubSpot portal."""

    def __init__(self, settings: Settings, *, engine: Engine | None = None, transport: Transport | None = None,
                 now: Callable[[], dt.datetime] | None = None, patient: bool = True) -> None:
        """`patient=False` for a person waiting: a failed connection is reported at once."""
        self.settings = settings
        self.engine = engine
        self.transport = transport or Transport(settings, patient=patient)
        self.fetcher = Fetcher(settings, self.transport)
        self._now = now or (lambda: dt.datetime.now(dt.UTC))
        self._pipelines: list[r.Pipeline] | None = None
        self._owners: list[r.Owner] | None = None

    @property
    def stats(self) -> CallStats:
        return self.transport.stats

    # --- reference data --------------------------------------------------------------
    def pipelines(self) -> list[r.Pipeline]:
        """Deal pipelines with stages in display order (cached for this gateway's life)."""
        if self._pipelines is None:
            out = []
            for p in self.fetcher.pipelines():
                stages = []
                for s in sorted(p.stages, key=lambda s: s.display_order):
                    meta = s.metadata or {}
                    probability = r.parse_float(meta.get("probability"))
                    closed = r.parse_bool(meta.get("isClosed"))
                    stages.append(r.PipelineStage(s.id, s.label, s.display_order, probability, closed,
                                                  closed and probability is not None and probability >= 1.0))
                out.append(r.Pipeline(p.id, p.label, p.display_order, tuple(stages)))
            self._pipelines = sorted(out, key=lambda p: p.display_order)
        return self._pipelines

    def owners(self) -> list[r.Owner]:
        """Cached per gateway like the pipelines: a digest reads them for its numbers and
        again for owner mentions."""
        if self._owners is None:
            self._owners = [r.Owner(str(o.id), o.first_name, o.last_name, o.email) for o in self.fetcher.owners()]
        return self._owners

    # --- object lists ----------------------------------------------------------------
    def deal_properties(self) -> list[str]:
        """Base deal properties plus hs_v2_date_entered/exited_<stage> for every pipeline stage."""
        names = list(DEAL_PROPS)
        for pipeline in self.pipelines():
            for stage in pipeline.stages:
                names += [f"hs_v2_date_entered_{stage.id}", f"hs_v2_date_exited_{stage.id}"]
        return names

    def company_properties(self) -> list[str]:
        s = self.settings
        return ["name", "domain", "lifecyclestage", "hubspot_owner_id", "createdate", "hs_lastmodifieddate",
                s.hubspot_cs_onboarding_start_property, s.hubspot_cs_first_value_property,
                s.hubspot_cs_business_review_property, s.hubspot_cs_renewal_property, s.hubspot_cs_nps_property,
                s.hubspot_cs_health_property, s.hubspot_cs_escalations_property]

    def contact_properties(self) -> list[str]:
        return [*CONTACT_PROPS, self.settings.hubspot_buying_role_property]

    def deals(self, *, progress: Progress | None = None, use_snapshot: bool = True) -> list[r.Deal]:
        rows = self._rows("deals", self.deal_properties(), progress, use_snapshot, self._with_stage_history)
        return [self._deal(row) for row in rows]

    def companies(self, *, progress: Progress | None = None, use_snapshot: bool = True) -> list[r.Company]:
        return [self._company(row) for row in self._rows("companies", self.company_properties(), progress,
                                                          use_snapshot)]

    def contacts(self, *, progress: Progress | None = None, use_snapshot: bool = True) -> list[r.Contact]:
        return [self._contact(row) for row in self._rows("contacts", self.contact_properties(), progress,
                                                          use_snapshot)]

    def deal(self, deal_id: str) -> r.Deal:
        row = self.fetcher.get("deals", deal_id, self.deal_properties())
        return self._deal(self._with_stage_history([row])[0])

    def company(self, company_id: str) -> r.Company:
        return self._company(self.fetcher.get("companies", company_id, self.company_properties()))

    def contacts_by_id(self, contact_ids: Sequence[str]) -> list[r.Contact]:
        """Contacts by id (batch reads): one account's people without listing the portal."""
        ids = list(dict.fromkeys(str(i) for i in contact_ids))
        return [self._contact(row) for row in self.fetcher.batch_read("contacts", ids, self.contact_properties())]

    def deals_by_id(self, deal_ids: Sequence[str]) -> list[r.Deal]:
        """Deals by id (batch reads, stage history where the v2 stage dates are missing)."""
        ids = list(dict.fromkeys(str(i) for i in deal_ids))
        rows = self.fetcher.batch_read("deals", ids, self.deal_properties())
        return [self._deal(row) for row in self._with_stage_history(rows)]

    def contact_emails(self, contact_ids: Sequence[str]) -> dict[str, str]:
        """The one place email addresses are read: only for features that must send or match
        them. Never put the result into a displayed message."""
        rows = self.fetcher.batch_read("contacts", list(contact_ids), ["email"])
        return {row.object_id: str(row.properties["email"]) for row in rows if row.properties.get("email")}

    # --- associations and activity ---------------------------------------------------
    def associations(self, from_type: str, to_type: str, ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        return {k: tuple(v) for k, v in self.fetcher.associations(from_type, to_type, ids).items()}

    def company_associations(self, company_ids: Iterable[str]) -> dict[str, r.CompanyAssociations]:
        ids = list(dict.fromkeys(str(i) for i in company_ids))
        contacts = self.fetcher.associations("companies", "contacts", ids)
        deals = self.fetcher.associations("companies", "deals", ids)
        return {i: r.CompanyAssociations(i, tuple(contacts.get(i, ())), tuple(deals.get(i, ()))) for i in ids}

    def deal_contacts(self, deal_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        return self.associations("deals", "contacts", deal_ids)

    def engagements(self, company_ids: Iterable[str], *, types: Sequence[str] = ENGAGEMENT_TYPES,
                    since: dt.datetime | None = None) -> dict[str, list[r.Engagement]]:
        """Each company's calls, emails, meetings, notes and tasks, newest first."""
        ids = list(dict.fromkeys(str(i) for i in company_ids))
        out: dict[str, list[r.Engagement]] = {i: [] for i in ids}
        for kind in types:
            links = self.fetcher.associations("companies", kind, ids)
            owner_of = {e: c for c, es in links.items() for e in es}
            rows = self.fetcher.batch_read(kind, list(owner_of), ENGAGEMENT_PROPS)
            for row in rows:
                stamp = r.parse_time(row.properties.get("hs_timestamp"))
                if since is not None and (stamp is None or stamp < since):
                    continue
                out[owner_of[row.object_id]].append(r.Engagement(
                    row.object_id, kind, stamp, row.properties.get("hubspot_owner_id"),
                    row.properties.get(_TITLES[kind]), row.properties.get("hs_task_status"),
                    owner_of[row.object_id]))
        floor = dt.datetime.min.replace(tzinfo=dt.UTC)
        for items in out.values():
            items.sort(key=lambda e: e.timestamp or floor, reverse=True)
        return out

    def account_engagements(self, company_id: str, contact_ids: Sequence[str], *,
                            types: Sequence[str] = ENGAGEMENT_TYPES) -> list[r.Engagement]:
        """One account's engagements: those linked to the company or to any of its contacts,
        each once (company_id = the account), newest first. Activity logged only on a
        contact still counts for the account."""
        company_id = str(company_id)
        people = list(dict.fromkeys(str(i) for i in contact_ids))
        found: list[r.Engagement] = []
        for kind in types:
            ids = list(self.fetcher.associations("companies", kind, [company_id]).get(company_id, []))
            if people:
                for linked in self.fetcher.associations("contacts", kind, people).values():
                    ids.extend(linked)
            for row in self.fetcher.batch_read(kind, list(dict.fromkeys(ids)), ENGAGEMENT_PROPS):
                found.append(r.Engagement(
                    row.object_id, kind, r.parse_time(row.properties.get("hs_timestamp")),
                    row.properties.get("hubspot_owner_id"), row.properties.get(_TITLES[kind]),
                    row.properties.get("hs_task_status"), company_id))
        floor = dt.datetime.min.replace(tzinfo=dt.UTC)
        return sorted(found, key=lambda e: e.timestamp or floor, reverse=True)

    def engagement_contacts(self, engagements: Iterable[r.Engagement]) -> dict[str, tuple[str, ...]]:
        """Engagement id -> ids of the contacts it involved (who was on the call, in the
        meeting): one v4 batch read per engagement type, 1,000 ids a call, long lists paged.
        Engagements without contacts map to an empty tuple."""
        by_type: dict[str, list[str]] = {}
        for engagement in engagements:
            by_type.setdefault(engagement.type, []).append(engagement.id)
        out: dict[str, tuple[str, ...]] = {}
        for kind, ids in by_type.items():
            out.update(self.associations(kind, "contacts", ids))
        return out

    # --- health ----------------------------------------------------------------------
    def check(self) -> CrmCheck:
        """Does the token work, which scopes are missing, how big is the portal."""
        report = CrmCheck(token_ok=True)
        probes: list[tuple[str, Callable[[], object]]] = [
            ("deals", lambda: self.fetcher.list_all("deals", ["dealname"], limit=1)),
            ("companies", lambda: self.fetcher.list_all("companies", ["name"], limit=1)),
            ("contacts", lambda: self.fetcher.list_all("contacts", ["firstname"], limit=1)),
            ("owners", lambda: self.fetcher.owners()),
            ("pipelines", lambda: self.pipelines()),
            ("deal properties", lambda: self.fetcher.property_names("deals")),
            ("engagements", lambda: self.fetcher.list_all("calls", ["hs_timestamp"], limit=1)),
        ]
        usable: dict[str, object] = {}
        for name, probe in probes:
            try:
                usable[name] = probe()
            except CrmAuthError as exc:
                if exc.status == 401:  # scopes cannot be learnt behind a rejected token
                    report.token_ok, report.missing_scopes = False, None
                    report.problems.append(str(exc))
                    return report
                assert report.missing_scopes is not None
                report.missing_scopes += [s for s in exc.missing_scopes if s not in report.missing_scopes]
                report.problems.append(f"{name}: {exc}")
            except CrmUnavailable as exc:
                if exc.status is None and not usable:  # no answer at all: nothing else can be learnt
                    report.reachable, report.token_ok, report.missing_scopes = False, None, None
                    report.problems.append(str(exc))
                    return report
                report.problems.append(f"{name}: {exc}")
            except CrmError as exc:
                report.problems.append(f"{name}: {exc}")
        for kind in ("deals", "companies", "contacts"):
            if kind in usable:
                report.counts[kind] = self.fetcher.count(kind)
        if "owners" in usable:
            report.counts["owners"] = len(usable["owners"])  # type: ignore[arg-type]
        if "pipelines" in usable:
            report.counts["pipelines"] = len(usable["pipelines"])  # type: ignore[arg-type]
        return report

    # --- internals -------------------------------------------------------------------
    def _rows(self, object_type: str, props: list[str], progress: Progress | None, use_snapshot: bool,
              enrich: Callable[[list[SnapshotRow]], list[SnapshotRow]] | None = None) -> list[SnapshotRow]:
        enrich = enrich or (lambda rows: rows)
        if self.engine is None or not use_snapshot:
            return enrich(self.fetcher.list_all(object_type, props, progress))
        scope_key = hashlib.sha256(",".join(sorted(props)).encode()).hexdigest()[:32]
        now = self._now()
        with session_scope(self.engine) as session:
            state = fetch_snapshot_state(session, object_type)
            cached = None if state is None else (state.scope_key, state.high_watermark_ms, state.full_sync_at)
        max_age = dt.timedelta(hours=self.settings.hubspot_snapshot_max_age_h)
        full_at = None if cached is None else cached[2]
        if full_at is not None and full_at.tzinfo is None:
            full_at = full_at.replace(tzinfo=dt.UTC)  # drivers that drop the zone store UTC
        if cached is None or full_at is None or cached[0] != scope_key or now - full_at > max_age:
            started_ms = int(now.timestamp() * 1000)
            rows = enrich(self.fetcher.list_all(object_type, props, progress))
            seen = max((row.last_modified_ms for row in rows), default=0)
            with session_scope(self.engine) as session:
                replace_snapshot(session, object_type, rows)
                save_snapshot_state(session, object_type, scope_key=scope_key, full=True, now=now,
                                    high_watermark_ms=min(seen, started_ms), object_count=len(rows))
            return rows
        watermark = cached[1]
        since = watermark - int(self.settings.hubspot_sync_overlap_s * 1000)
        changed = enrich(self.fetcher.modified_since(object_type, since, props, progress))
        with session_scope(self.engine) as session:
            save_snapshot_objects(session, object_type, changed)
            rows = fetch_snapshot(session, object_type)
            top = max([watermark] + [row.last_modified_ms for row in changed])
            save_snapshot_state(session, object_type, scope_key=scope_key, full=False, now=now,
                                high_watermark_ms=top, object_count=len(rows))
        return rows

    def _with_stage_history(self, rows: list[SnapshotRow]) -> list[SnapshotRow]:
        """Deals without hs_v2_date_entered_* values get their `dealstage` history (50 per call)."""
        bare = [row.object_id for row in rows if not row.history and not any(
            v for k, v in row.properties.items() if k.startswith("hs_v2_date_entered_"))]
        if not bare:
            return rows
        found = {x.object_id: x.history for x in self.fetcher.batch_read("deals", bare, ["dealstage"], ["dealstage"])}
        return [SnapshotRow(row.object_id, row.properties, found.get(row.object_id, row.history),
                            row.last_modified_ms) if row.object_id in found else row for row in rows]

    def _deal(self, row: SnapshotRow) -> r.Deal:
        p = row.properties
        pipelines = {x.id: x for x in self.pipelines()}  # small; pipelines() is cached
        pipeline = pipelines.get(p.get("pipeline") or "")
        stage_ids = tuple(s.id for s in pipeline.stages) if pipeline else tuple(
            s.id for x in pipelines.values() for s in x.stages)
        times, source = r.stage_times_from_v2(p, stage_ids), "v2"
        if not times and row.history and row.history.get("dealstage"):
            times, source = r.stage_times_from_history(row.history["dealstage"]), "history"
        stage = pipeline.stage(p.get("dealstage") or "") if pipeline else None
        closed = r.parse_bool(p.get("hs_is_closed")) if p.get("hs_is_closed") else bool(stage and stage.is_closed)
        won = r.parse_bool(p.get("hs_is_closed_won")) if p.get("hs_is_closed_won") else bool(stage and stage.is_won)
        return r.Deal(row.object_id, p.get("dealname") or "", r.parse_float(p.get("amount")), p.get("pipeline") or "",
                      p.get("dealstage") or "", p.get("hubspot_owner_id"), r.parse_time(p.get("createdate")),
                      r.parse_time(p.get("closedate")), closed, won, r.parse_time(p.get("hs_lastmodifieddate")),
                      times, source if times else "none")

    def _company(self, row: SnapshotRow) -> r.Company:
        p, s = row.properties, self.settings
        escalations = r.parse_float(p.get(s.hubspot_cs_escalations_property))
        success = r.CustomerSuccess(
            r.parse_date(p.get(s.hubspot_cs_onboarding_start_property)),
            r.parse_date(p.get(s.hubspot_cs_first_value_property)),
            r.parse_date(p.get(s.hubspot_cs_business_review_property)),
            r.parse_date(p.get(s.hubspot_cs_renewal_property)),
            r.parse_float(p.get(s.hubspot_cs_nps_property)), r.parse_float(p.get(s.hubspot_cs_health_property)),
            None if escalations is None else int(escalations))
        return r.Company(row.object_id, p.get("name") or "", p.get("domain"), p.get("lifecyclestage"),
                         p.get("hubspot_owner_id"), r.parse_time(p.get("createdate")),
                         r.parse_time(p.get("hs_lastmodifieddate")), success)

    def _contact(self, row: SnapshotRow) -> r.Contact:
        p = row.properties
        roles = tuple(x for x in (p.get(self.settings.hubspot_buying_role_property) or "").split(";") if x)
        return r.Contact(row.object_id, p.get("firstname"), p.get("lastname"), p.get("jobtitle"), roles,
                         p.get("lifecyclestage"), p.get("hubspot_owner_id"), p.get("associatedcompanyid"),
                         r.parse_time(p.get("lastmodifieddate") or p.get("hs_lastmodifieddate")))
