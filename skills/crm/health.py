"""`journeybot crm check`: whether HubSpot answers, the token works, which scopes are
missing and how big the portal is; every probe is tried so one report names every gap."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from skills.crm.errors import CrmAuthError, CrmError, CrmUnavailable
from skills.crm.fetch import Fetcher
from skills.crm.records import Pipeline


@dataclass
class CrmCheck:
    """What `journeybot crm check` reports. `token_ok` and `missing_scopes` are None when
    they could not be learnt (HubSpot unreachable; scopes behind a rejected token)."""

    token_ok: bool | None
    missing_scopes: list[str] | None = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    reachable: bool = True



def check_portal(fetcher: Fetcher, pipelines: Callable[[], list[Pipeline]]) -> CrmCheck:
    """Does the token work, which scopes are missing, how big is the portal."""
    report = CrmCheck(token_ok=True)
    probes: list[tuple[str, Callable[[], object]]] = [
        ("deals", lambda: fetcher.list_all("deals", ["dealname"], limit=1)),
        ("companies", lambda: fetcher.list_all("companies", ["name"], limit=1)),
        ("contacts", lambda: fetcher.list_all("contacts", ["firstname"], limit=1)),
        ("owners", lambda: fetcher.owners()),
        ("pipelines", pipelines),
        ("deal properties", lambda: fetcher.property_names("deals")),
        ("engagements", lambda: fetcher.list_all("calls", ["hs_timestamp"], limit=1)),
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
            report.counts[kind] = fetcher.count(kind)
    if "owners" in usable:
        report.counts["owners"] = len(usable["owners"])  # type: ignore[arg-type]
    if "pipelines" in usable:
        report.counts["pipelines"] = len(usable["pipelines"])  # type: ignore[arg-type]
    return report
