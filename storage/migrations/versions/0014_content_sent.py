"""content sent: the assets reps said they sent, one row per deal, asset and stage entry

Revision ID: 0014
Revises: 0012
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('content_sent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deal_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('crm_stage_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('journey_stage_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('stage_entered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('entry', sqlmodel.sql.sqltypes.AutoString(length=140), nullable=False),
    sa.Column('asset_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('user', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('deal_id', 'asset_id', 'entry', name='uq_content_sent_entry')
    )
    with op.batch_alter_table('content_sent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_content_sent_deal_id'), ['deal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_content_sent_asset_id'), ['asset_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('content_sent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_content_sent_asset_id'))
        batch_op.drop_index(batch_op.f('ix_content_sent_deal_id'))

    op.drop_table('content_sent')
