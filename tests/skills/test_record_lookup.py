"""One finder for accounts and deals (issue #11 item 3): a name that fits two companies
equally ("Globex": Globex Corporation and Globex Logistics) is asked back by `account`
as by `deal`, instead of the legal suffix deciding; the full name, or a name with its
legal form, still picks one. Real sandbox portal, real gateway."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.generator import generate_portal
from sandbox.model import Portal
from sandbox.server import SandboxServer
from skills.account import AccountChoices, AccountReadiness, run_account
from skills.account_lookup import match_names
from skills.context import SkillContext
from skills.deal import DealChoices, DealContent, run_deal
from tests.skills.account_fixtures import NOW, TOKEN, crm_skill_context

GLOBEX = ("Globex Corporation", "Globex Logistics")


@pytest.fixture(scope="module")
def globex_portal() -> tuple[Portal, dict[str, str]]:
    """A generated portal with two companies named Globex …, each with one deal."""
    portal = generate_portal(11, now=NOW)
    ids: dict[str, str] = {}
    with_deals = [cid for cid in portal.objects["companies"] if portal.associated("companies", "deals", cid)]
    for company_id, name in zip(with_deals[:2], GLOBEX, strict=True):
        portal.objects["companies"][company_id].properties["name"] = name
        deal_id = portal.associated("companies", "deals", company_id)[0]
        portal.objects["deals"][deal_id].properties["dealname"] = f"{name} - Enterprise"
        ids[name] = str(company_id)
        ids[f"{name} - Enterprise"] = str(deal_id)
    return portal, ids


@pytest.fixture(scope="module")
def globex_ctx(globex_portal: tuple[Portal, dict[str, str]], sample_service: Any,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[SkillContext]:
    with SandboxServer(globex_portal[0], token=TOKEN, rate_limit=None, search_rate_limit=None) as server, \
            crm_skill_context(sample_service, server, tmp_path_factory.mktemp("globex")) as ctx:
        yield ctx


def test_account_asks_back_when_a_name_fits_two_companies_equally(globex_ctx: SkillContext) -> None:
    result = run_account(globex_ctx, "Globex")
    assert isinstance(result, AccountChoices)
    assert sorted(c.name for c in result.candidates) == sorted(GLOBEX) and result.total == 2
    assert "2 companies match 'Globex'; which one?" in result.message


def test_deal_asks_back_the_same_way(globex_ctx: SkillContext) -> None:
    result = run_deal(globex_ctx, "Globex")
    assert isinstance(result, DealChoices)
    assert sorted(c.name for c in result.candidates) == [f"{n} - Enterprise" for n in GLOBEX] and result.total == 2
    assert "2 deals match 'Globex'; which one?" in result.message


@pytest.mark.parametrize("typed", ["Globex Corporation", "globex corp.", "GLOBEX, Corp"])
def test_the_full_name_or_its_legal_form_still_picks_one(globex_ctx: SkillContext,
                                                         globex_portal: tuple[Portal, dict[str, str]], typed: str) -> None:
    result = run_account(globex_ctx, typed)
    assert isinstance(result, AccountReadiness) and result.company_id == globex_portal[1]["Globex Corporation"]


def test_a_distinct_name_picks_its_deal(globex_ctx: SkillContext, globex_portal: tuple[Portal, dict[str, str]]) -> None:
    result = run_deal(globex_ctx, "Globex Logistics - Enterprise")
    assert isinstance(result, DealContent) and result.deal.id == globex_portal[1]["Globex Logistics - Enterprise"]


@pytest.mark.parametrize(("query", "names", "picked"), [
    ("Globex", ["Globex", "Globex Logistics"], "Globex"),  # its full name as written
    ("Globex Inc", ["Globex Inc", "Globex GmbH"], "Globex Inc"),
    ("Globex Corp", ["Globex Corporation", "Globex Logistics"], "Globex Corporation"),  # names a legal form
    ("Northwind", ["Northwind Traders", "Contoso"], "Northwind Traders"),  # a lone leading part: similarity decides
])
def test_match_names_picks(query: str, names: list[str], picked: str) -> None:
    assert match_names(query, [(name, name) for name in names]).picked == picked


@pytest.mark.parametrize(("query", "names"), [
    ("Globex", ["Globex Corporation", "Globex Logistics"]),
    ("Globex", ["Globex Inc", "Globex GmbH"]),
    ("Globex", ["Globex Logistics", "Globex Corporation", "Globex Retail Group"]),
])
def test_match_names_asks_back_with_every_equal_fit(query: str, names: list[str]) -> None:
    match = match_names(query, [(name, name) for name in names])
    assert match.picked is None and match.total == len(names)
    assert sorted(i for i, _ in match.candidates) == sorted(names) and all(s == 100.0 for _, s in match.candidates)
