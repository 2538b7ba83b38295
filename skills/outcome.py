"""Any skill call as a typed outcome: the one place that decides what a failure means.

Slack, the CLI and the scheduler only render outcomes: a result; a user error (its
message says how to fix the input); the CRM unavailable (retry later; nothing partial was
used); the installation not set up (a missing model, say: one line in the log naming the
setting, with an error id); or a bug, logged with an error id the user can quote.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from config import ConfigError
from knowledge.errors import InputError
from skills.context import SkillContext
from skills.crm.errors import CrmError
from skills.registry import Registry, SkillResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Done:
    result: SkillResult


@dataclass(frozen=True)
class UserError:
    message: str


@dataclass(frozen=True)
class CrmUnavailable:
    message: str
    error_id: str


@dataclass(frozen=True)
class Misconfigured:
    message: str  # one line naming the setting or path, for the operator
    error_id: str
    exit_code: int


@dataclass(frozen=True)
class Bug:
    error_id: str
    kind: str  # the exception's type name: enough for a run record, no details


Outcome = Done | UserError | CrmUnavailable | Misconfigured | Bug


def new_error_id() -> str:
    return uuid.uuid4().hex[:8]


def run_skill(registry: Registry, ctx: SkillContext, name: str, text: str = "", **values: Any) -> Outcome:
    """Dispatch `name`; never raises for what the skill does."""
    try:
        return Done(registry.dispatch(ctx, name, text, **values))
    except InputError as exc:
        return UserError(str(exc))
    except CrmError as exc:
        error_id = new_error_id()
        log.warning("CRM unavailable in %s (error id %s): %s", name, error_id, exc)
        return CrmUnavailable(str(exc), error_id)
    except ConfigError as exc:  # the installation, not the skill: one line, no traceback
        return Misconfigured(str(exc), new_error_id(), exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - this is the boundary: a bug becomes an error id
        error_id = new_error_id()
        log.exception("skill %s failed (error id %s)", name, error_id)
        return Bug(error_id, type(exc).__name__)
