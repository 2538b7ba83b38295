"""Which Slack workspace a client talks to, as a cache key: per-process caches of Slack
answers (owners by email, users' time zones) never serve one workspace's answer to another."""

from __future__ import annotations

import hashlib
from typing import Any


def workspace_of(client: Any) -> str:
    """The client's API URL and a digest of its token (the token itself is not kept)."""
    token = str(getattr(client, "token", "") or "")
    return f"{getattr(client, 'base_url', '')}#{hashlib.sha256(token.encode()).hexdigest()[:16]}"
