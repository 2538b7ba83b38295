"""CrmGateway: the only code that reads HubSpot. Returns typed records, never client models.

With an engine, object lists (and, for portal-wide reads, engagements) come through the
local snapshot (skills/crm/snapshot.py). Any failure raises; a partial list is never
returned as if it were complete.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence

from sqlalchemy.engine import Engine

from config.settings import Settings
from skills.crm import records as r
from skills.crm.activity import ENGAGEMENT_PROPS, ENGAGEMENT_TYPES, account_activity, newest_first
from skills.crm.client import CallStats, Transport
from skills.crm.fetch import Fetcher, Progress
from skills.crm.health import CrmCheck, check_portal
from skills.crm.notes import create_deal_note, missing_note_scopes, token_scopes
from skills.crm.snapshot import Enrich, SnapshotCache
from storage.crm_snapshot import SnapshotRow, fetch_snapshot_modified_since
from storage.engine import session_scope
from storage.timestamps import utc_now

DEAL_PROPS = ("dealname", "amount", "pipeline", "dealstage", "createdate", "closedate", "hs_is_closed",
              "hs_is_closed_won", "hubspot_owner_id", "hs_lastmodifieddate")
CONTACT_PROPS = ("firstname", "lastname", "jobtitle", "lifecyclestage", "hubspot_owner_id",
                 "associatedcompanyid", "lastmodifieddate")


class CrmGateway:
    """Typed, paced, retried, cached reads of one HubSpot portal."""

    def __init__(self, settings: Settings, *, engine: Engine | None = None, transport: Transport | None = None,
                 now: Callable[[], dt.datetime] | None = None, patient: bool = True) -> None:
        """`patient=False` for a person waiting: a failed connection is reported at once."""
        self.settings = settings
        self.engine = engine
        self.transport = transport or Transport(settings, patient=patient)
        self.fetcher = Fetcher(settings, self.transport)
        self._now = now or utc_now
        self.snapshot = SnapshotCache(settings, self.fetcher, engine, self._now) if engine is not None else None
        self._pipelines: list[r.Pipeline] | None = None
        self._owners: list[r.Owner] | None = None
        self._scopes: frozenset[str] | None = None

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

    def deals_modified_since(self, since_ms: int) -> list[r.Deal]:
        """Deals modified after `since_ms` (epoch ms): the snapshot is synced first (an
        incremental sync searches only what changed), then only its rows modified since are
        read. Needs an engine (the snapshot). Oldest modification first."""
        if self.snapshot is None or self.engine is None:
            raise RuntimeError("deals_modified_since needs the local snapshot (a gateway with an engine)")
        self.snapshot.refresh("deals", self.deal_properties(), self._with_stage_history)
        with session_scope(self.engine) as session:
            rows = fetch_snapshot_modified_since(session, "deals", since_ms)
        return [self._deal(row) for row in rows]

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

    def account_engagements(self, accounts: Mapping[str, Sequence[str]], *, from_snapshot: bool = False,
                            types: Sequence[str] = ENGAGEMENT_TYPES) -> dict[str, list[r.Engagement]]:
        """Each account's activity (company id -> its contact ids in, skills/crm/activity.py
        for what counts), newest first. Associations are read live (1,000 ids a call);
        properties by batch read, or with `from_snapshot` from the local snapshot of every
        engagement (for reads across many accounts: a refresh is a few searches)."""
        wanted = {str(c): list(dict.fromkeys(str(i) for i in ids)) for c, ids in accounts.items()}
        people = list(dict.fromkeys(p for ids in wanted.values() for p in ids))
        out: dict[str, list[r.Engagement]] = {c: [] for c in wanted}
        for kind in types:
            by_company = self.fetcher.associations("companies", kind, list(wanted))
            by_contact = self.fetcher.associations("contacts", kind, people) if people else {}
            ids = list(dict.fromkeys([*(e for es in by_company.values() for e in es),
                                      *(e for es in by_contact.values() for e in es)]))
            if self.snapshot is not None and from_snapshot:
                rows = self.snapshot.rows_by_id(kind, list(ENGAGEMENT_PROPS), ids)
            else:
                rows = self.fetcher.batch_read(kind, ids, ENGAGEMENT_PROPS)
            for company_id, found in account_activity(kind, wanted, by_company, by_contact, rows).items():
                out[company_id] += found
        return {c: newest_first(items) for c, items in out.items()}

    def refresh_engagements(self, progress: Progress | None = None) -> dict[str, int]:
        """Bring the engagement snapshot up to date (`crm sync`); engagements cached per type."""
        if self.snapshot is None:
            return {kind: len(self.fetcher.list_all(kind, ENGAGEMENT_PROPS, progress)) for kind in ENGAGEMENT_TYPES}
        return {kind: len(self.snapshot.rows(kind, list(ENGAGEMENT_PROPS), progress)) for kind in ENGAGEMENT_TYPES}

    # --- health ----------------------------------------------------------------------
    def check(self) -> CrmCheck:
        """Does the token work, which scopes are missing, how big is the portal."""
        return check_portal(self.fetcher, self.pipelines)

    # --- the one write -----------------------------------------------------------------
    def scopes(self) -> frozenset[str]:
        """The token's granted scopes (read once per gateway)."""
        if self._scopes is None:
            self._scopes = token_scopes(self.transport)
        return self._scopes

    def missing_note_scopes(self) -> tuple[str, ...]:
        """The scopes a deal note needs that the token lacks (empty: a note may be written)."""
        return missing_note_scopes(self.scopes())

    def add_deal_note(self, deal_id: str, body: str, at: dt.datetime) -> str:
        """A note on the deal's HubSpot timeline; returns the note id (skills/crm/notes.py)."""
        return create_deal_note(self.transport, deal_id, body, at)

    # --- internals -------------------------------------------------------------------
    def _rows(self, object_type: str, props: list[str], progress: Progress | None, use_snapshot: bool,
              enrich: Enrich | None = None) -> list[SnapshotRow]:
        enrich = enrich or (lambda rows: rows)
        if self.snapshot is None or not use_snapshot:
            return enrich(self.fetcher.list_all(object_type, props, progress))
        return self.snapshot.rows(object_type, props, progress, enrich)

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
