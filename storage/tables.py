"""Imports every table module so SQLModel.metadata (and Alembic) sees them all."""

from storage import churn_ledger, content_sent, crm_snapshot, index_release, question_log, result_store, slack_state, subscriptions  # noqa: F401
