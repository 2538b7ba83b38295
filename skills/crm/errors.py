"""Typed gateway errors: callers never see the client's ~60 unrelated ApiException classes."""

from __future__ import annotations


class CrmError(Exception):
    """Any failure reading the CRM. Never raised with partial data attached."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class CrmAuthError(CrmError):
    """401 (token missing, wrong or expired) or 403 (a scope the private app lacks)."""

    def __init__(self, message: str, *, status: int, missing_scopes: tuple[str, ...] = ()) -> None:
        super().__init__(message, status=status)
        self.missing_scopes = missing_scopes


class CrmUnavailable(CrmError):
    """HubSpot kept failing (429, 5xx, connection errors) after every retry."""

    def __init__(self, message: str, *, status: int | None, attempts: int) -> None:
        super().__init__(message, status=status)
        self.attempts = attempts


class CrmNotFound(CrmError):
    """The object does not exist (or was archived)."""


class CrmRequestError(CrmError):
    """HubSpot rejected the request itself (400 and similar): a gateway bug or a bad input."""
