"""channel config: drop team_view (documented as framing answers, read by nothing)

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('slack_channel_config', schema=None) as batch_op:
        batch_op.drop_column('team_view')


def downgrade() -> None:
    with op.batch_alter_table('slack_channel_config', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team_view', sa.String(length=16), nullable=False, server_default='sales'))
