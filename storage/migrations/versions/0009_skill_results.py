"""skill results kept for Show more and Share

Revision ID: 0009
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'skill_result',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('skill', sa.String(length=40), nullable=False),
        sa.Column('channel_id', sa.String(length=32), nullable=False),
        sa.Column('payload', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_skill_result_created_at', 'skill_result', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_skill_result_created_at', table_name='skill_result')
    op.drop_table('skill_result')
