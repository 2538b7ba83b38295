"""CRM owners as Slack mentions: owner id -> Slack user id, resolved at render time; and
the other way, a Slack user's own CRM owner id (App Home's "my open deals").

Skill results carry an owner's CRM id and display name, never an email. Here, in the bot
layer only, the owners' emails come from the CRM gateway (`gateway.owners()`) and are
looked up with Slack's `users.lookupByEmail`; the answer is the mapping renderers take as
`mentions` (owner id -> Slack user id). Emails stay inside this module: they are never
returned, logged or put in a message.

Lookups are cached per process, per workspace (the client's API URL and token) and per
email (case-insensitive), misses ("users_not_found") too, so a digest with the same owners
costs no further calls. Entries expire (a found user after `FOUND_TTL_S`, a miss sooner,
after `MISSING_TTL_S`): a rep who joins Slack or changes address is reached without a
restart. Any other error (rate limit, missing scope, network) is not cached: that owner is
shown by name this time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError

from bot.workspace import workspace_of
from skills.crm.records import Owner

log = logging.getLogger(__name__)

FOUND_TTL_S = 6 * 3600.0
MISSING_TTL_S = 15 * 60.0

CacheKey = tuple[str, str]  # (workspace, email)
CacheEntry = tuple[float, str | None]  # (expires at, monotonic; Slack user id or None)

_SHARED: dict[CacheKey, CacheEntry] = {}
_LOCK = threading.Lock()


class OwnerSource(Protocol):
    def owners(self) -> list[Owner]: ...


def owner_ids_of(result: object) -> set[str]:
    """The CRM owner ids a result would show (velocity stalled deals, churn findings, or a
    sequence of churn findings as alerts)."""
    found: set[str] = set()
    items: Iterable[Any]
    if hasattr(result, "pipelines"):
        items = [s for p in result.pipelines for s in p.stalled]
    elif hasattr(result, "findings"):
        items = result.findings
    elif isinstance(result, Sequence) and not isinstance(result, str):
        items = result
    else:
        items = ()
    for item in items:
        owner_id = getattr(item, "owner_id", None)
        if owner_id:
            found.add(str(owner_id))
    return found


class SlackOwnerDirectory:
    """`users.lookupByEmail` with a per-process cache; pass `cache={}` for a private one."""

    def __init__(self, client: Any, cache: MutableMapping[CacheKey, CacheEntry] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self._cache = _SHARED if cache is None else cache
        self._clock = clock
        self._workspace = workspace_of(client)

    def user_id(self, email: str | None) -> str | None:
        """The Slack user id for this email, or None (no such user, or the lookup failed)."""
        address = (email or "").strip().lower()
        if not address:
            return None
        key = (self._workspace, address)
        with _LOCK:
            cached = self._cache.get(key)
            if cached is not None and cached[0] > self._clock():
                return cached[1]
        try:
            response = self.client.users_lookupByEmail(email=address)
        except SlackApiError as exc:
            error = (exc.response.get("error") if exc.response is not None else None) or "error"
            if error == "users_not_found":
                self._remember(key, None)
            else:
                log.warning("users.lookupByEmail failed (%s); owner shown by name", error)
            return None
        except Exception as exc:  # noqa: BLE001 - a mention is a nicety; the name is always there
            log.warning("users.lookupByEmail failed (%s); owner shown by name", type(exc).__name__)
            return None
        user = (response.get("user") or {}).get("id")
        self._remember(key, user)
        return user

    def _remember(self, key: CacheKey, user: str | None) -> None:
        ttl = FOUND_TTL_S if user else MISSING_TTL_S
        with _LOCK:
            self._cache[key] = (self._clock() + ttl, user)

    def mentions(self, owners: Iterable[Owner], owner_ids: Iterable[str] | None = None) -> dict[str, str]:
        """Owner id -> Slack user id for the owners (only `owner_ids` when given) whose
        email matches a Slack user."""
        wanted = None if owner_ids is None else set(owner_ids)
        out: dict[str, str] = {}
        for owner in owners:
            if wanted is not None and owner.id not in wanted:
                continue
            user = self.user_id(owner.email)
            if user:
                out[owner.id] = user
        return out

    def mentions_for(self, gateway: OwnerSource, result: object) -> dict[str, str]:
        """The `mentions` mapping for a result, reading the owners' emails from the CRM
        gateway only when the result shows at least one owner."""
        ids = owner_ids_of(result)
        if not ids:
            return {}
        try:
            owners = gateway.owners()
        except Exception as exc:  # noqa: BLE001 - fall back to names rather than fail the post
            log.warning("could not read CRM owners for mentions (%s)", type(exc).__name__)
            return {}
        return self.mentions(owners, ids)


def owner_id_for_slack_user(client: Any, owners: Iterable[Owner], slack_user_id: str) -> str | None:
    """The CRM owner id of a Slack user (their profile email, from `users.info`, equal to
    an owner's, case-insensitive), or None. The email lives only in this call."""
    try:
        profile = ((client.users_info(user=slack_user_id).get("user") or {}).get("profile") or {})
    except SlackApiError as exc:
        error = (exc.response.get("error") if exc.response is not None else None) or "error"
        log.warning("users.info failed (%s); no CRM owner for this Slack user", error)
        return None
    key = str(profile.get("email") or "").strip().lower()
    if not key:
        return None
    return next((o.id for o in owners if (o.email or "").strip().lower() == key), None)


def clear_cache() -> None:
    """Forget the shared cache (tests; a workspace's users changed)."""
    with _LOCK:
        _SHARED.clear()

