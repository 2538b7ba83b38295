"""Imports every table module so SQLModel.metadata (and Alembic) sees them all."""

from storage import (  # noqa: F401
    churn_ledger,
    content_sent,
    crm_snapshot,
    deal_stage_watch,
    index_release,
    nudge_ledger,
    nudge_preferences,
    question_log,
    result_store,
    slack_state,
    subscriptions,
)
