"""Who may run what, where: Q&A everywhere; CRM skills only in allowed channels or for
allowed users and user groups; a channel may narrow its skills further."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from config import Settings
from skills.registry import Skill
from storage.slack_state import ChannelConfig

log = logging.getLogger(__name__)
GROUP_CACHE_S = 300.0


def _ids(csv: str) -> frozenset[str]:
    return frozenset(x.strip() for x in csv.split(",") if x.strip())


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""


class AccessPolicy:
    def __init__(self, settings: Settings, client: WebClient) -> None:
        self.channels = _ids(settings.slack_crm_channels)
        self.users = _ids(settings.slack_crm_users)
        self.groups = _ids(settings.slack_crm_usergroups)
        self.client = client
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.users or self._in_groups(user_id)

    def check(self, skill: Skill, config: ChannelConfig, user_id: str) -> Decision:
        if config.allowed_skills is not None and skill.name not in config.allowed_skills and skill.name != "ask":
            return Decision(False, f"`{skill.name}` is not enabled in this channel")
        if not skill.needs_crm:
            return Decision(True)
        if config.crm_allowed or config.channel_id in self.channels or self.is_admin(user_id):
            return Decision(True)
        return Decision(False, f"`{skill.name}` reads CRM data, which this channel is not cleared for")

    def _in_groups(self, user_id: str) -> bool:
        return any(user_id in self._group_members(group) for group in self.groups)

    def _group_members(self, group_id: str) -> frozenset[str]:
        now = time.monotonic()
        with self._lock:
            cached = self._members.get(group_id)
            if cached and now - cached[0] < GROUP_CACHE_S:
                return cached[1]
        try:
            users: frozenset[str] = frozenset(self.client.usergroups_users_list(usergroup=group_id).get("users", []))
        except SlackApiError as exc:
            log.warning("cannot read user group %s: %s", group_id, exc.response.get("error"))
            users = frozenset()
        with self._lock:
            self._members[group_id] = (now, users)
        return users
