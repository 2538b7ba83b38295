"""deal nudges: watched deals, watch state, nudge ledger

Revision ID: 0012
Revises: 0011
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('nudge_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nudge_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('deal_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('stage_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('entered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('claimed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('retry_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('posted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('slack_user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('message_ts', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('nudge_key')
    )
    with op.batch_alter_table('nudge_ledger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nudge_ledger_deal_id'), ['deal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_nudge_ledger_posted_at'), ['posted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_nudge_ledger_slack_user_id'), ['slack_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_nudge_ledger_state'), ['state'], unique=False)

    op.create_table('nudge_watch_state',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('watermark_ms', sa.BigInteger(), nullable=False),
    sa.Column('baseline_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('scanned_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('nudge_watched_deal',
    sa.Column('deal_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('stage_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('entered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('closed', sa.Boolean(), nullable=False),
    sa.Column('reminder_kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('reminder_due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('deal_id')
    )
    with op.batch_alter_table('nudge_watched_deal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nudge_watched_deal_reminder_due_at'), ['reminder_due_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('nudge_watched_deal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nudge_watched_deal_reminder_due_at'))

    op.drop_table('nudge_watched_deal')
    op.drop_table('nudge_watch_state')
    with op.batch_alter_table('nudge_ledger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nudge_ledger_state'))
        batch_op.drop_index(batch_op.f('ix_nudge_ledger_slack_user_id'))
        batch_op.drop_index(batch_op.f('ix_nudge_ledger_posted_at'))
        batch_op.drop_index(batch_op.f('ix_nudge_ledger_deal_id'))

    op.drop_table('nudge_ledger')
