"""nudge preferences: each rep's nudges on/off, quiet hours and daily cap

Revision ID: 0013
Revises: 0014 (numbered before it, merged after it)
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'nudge_preference',
        sa.Column('slack_user_id', sa.String(length=32), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('quiet_start', sa.Integer(), nullable=False),
        sa.Column('quiet_end', sa.Integer(), nullable=False),
        sa.Column('daily_cap', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('slack_user_id'),
    )


def downgrade() -> None:
    op.drop_table('nudge_preference')
