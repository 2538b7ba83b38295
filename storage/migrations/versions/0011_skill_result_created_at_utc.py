"""skill_result.created_at holds its zone, like every other timestamp

Revision ID: 0011
Revises: 0010

0009 made it a TIMESTAMP WITHOUT TIME ZONE on PostgreSQL. The application always wrote
tz-aware values, which PostgreSQL turned into the session's local time, so the old rows
are read back in the session's zone (what reversed that cast). SQLite stores the same
text either way: nothing to do there.
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.alter_column('skill_result', 'created_at', type_=sa.DateTime(timezone=True), existing_nullable=False,
                    postgresql_using='created_at::timestamptz')


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.alter_column('skill_result', 'created_at', type_=sa.DateTime(), existing_nullable=False,
                    postgresql_using="created_at AT TIME ZONE 'UTC'")
