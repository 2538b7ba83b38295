"""Imports every table module so SQLModel.metadata (and Alembic) sees them all."""

from storage import index_release, question_log  # noqa: F401
from storage import crm_snapshot  # noqa: F401
