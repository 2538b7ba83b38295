"""thread context remembers the deal

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('slack_thread_context', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deal', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('slack_thread_context', schema=None) as batch_op:
        batch_op.drop_column('deal')
