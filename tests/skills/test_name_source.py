"""CRM names for understanding, read through the real gateway from the sandbox portal."""

from __future__ import annotations

from typing import Any

from config import Settings
from skills.builtin import default_registry
from skills.context import SkillContext
from skills.crm import CrmGateway
from skills.name_source import CrmNames, directory_from_crm
from skills.understanding import understander_for
from tests.skills.account_fixtures import (  # noqa: F401  (fixtures)
    PLANTED_NAME,
    planted_portal,
    skill_ctx,
    skill_server,
)


def test_directory_holds_the_portals_companies_deals_and_owners(skill_ctx: SkillContext, planted_portal: Any) -> None:
    portal = planted_portal[0]
    directory = directory_from_crm(skill_ctx.gateway)
    counts = {kind: sum(r.type == kind for r in directory.records) for kind in ("company", "deal", "owner")}
    assert counts == {"company": len(portal.objects["companies"]), "deal": len(portal.objects["deals"]),
                      "owner": len(portal.owners)}
    assert PLANTED_NAME in {r.name for r in directory.records if r.type == "company"}


def test_a_message_naming_a_portal_company_routes_to_it(skill_ctx: SkillContext) -> None:
    planted = next(c for c in skill_ctx.gateway.companies() if c.name == PLANTED_NAME)
    result = understander_for(skill_ctx, default_registry()).understand(f"anything new with {PLANTED_NAME.lower()}?")
    assert (result.skill, result.arguments) == ("account", {"account": planted.id}), result.to_dict()


def test_an_unreachable_crm_gives_no_names_and_no_error(skill_ctx: SkillContext) -> None:
    values: dict[str, Any] = {**skill_ctx.settings.model_dump(), "hubspot_base_url": "http://127.0.0.1:9",
                              "hubspot_max_retries": 0}
    gateway = CrmGateway(Settings.from_mapping(values))
    names = CrmNames(lambda: gateway)
    assert len(names()) == 0
