"""question log records where a question came from (slack, cli, ...)

Revision ID: 0008
Revises: 0007
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('question_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=20), nullable=True))
    # Before this column only Slack passed a channel; everything else came from the CLI.
    op.execute("UPDATE question_log SET source = CASE WHEN channel IS NOT NULL THEN 'slack' ELSE 'cli' END")


def downgrade() -> None:
    with op.batch_alter_table('question_log', schema=None) as batch_op:
        batch_op.drop_column('source')
