"""The CRM gateway: typed, paced, retried and cached HubSpot reads through hubspot-api-client."""

from skills.crm.errors import CrmAuthError, CrmError, CrmNotFound, CrmRequestError, CrmUnavailable
from skills.crm.gateway import CrmGateway
from skills.crm.health import CrmCheck

__all__ = ["CrmAuthError", "CrmCheck", "CrmError", "CrmGateway", "CrmNotFound", "CrmRequestError",
           "CrmUnavailable"]
