"""The CRM gateway: typed, paced, retried and cached HubSpot reads through hubspot-api-client.

The gateway and the health check load hubspot-api-client (and urllib3) when first named:
a process that only handles CRM errors (the journey-map Q&A's outcome handling) never
pays for the client's import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from skills.crm.errors import CrmAuthError, CrmError, CrmNotFound, CrmRequestError, CrmUnavailable

if TYPE_CHECKING:
    from skills.crm.gateway import CrmGateway
    from skills.crm.health import CrmCheck

__all__ = ["CrmAuthError", "CrmCheck", "CrmError", "CrmGateway", "CrmNotFound", "CrmRequestError",
           "CrmUnavailable"]


def __getattr__(name: str) -> Any:
    if name == "CrmGateway":
        from skills.crm.gateway import CrmGateway

        return CrmGateway
    if name == "CrmCheck":
        from skills.crm.health import CrmCheck

        return CrmCheck
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
