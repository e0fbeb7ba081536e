"""Review inbox: the citizen messages the assistant did not answer well, and editors' actions on them.

Existing conversations are marked for the outcome refresher (their outcome rows
stay for the reports meanwhile), so it captures their inbox items too.

Revision ID: 0005_review_inbox
Revises: 0004_editor_and_answers
"""

from alembic import op
import sqlalchemy as sa
import handoff_bridge.db.models


revision = '0005_review_inbox'
down_revision = '0004_editor_and_answers'
branch_labels = None
depends_on = None

_UTC = handoff_bridge.db.models.UTCDateTime(timezone=True)
_BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('inbox_actions',
    sa.Column('id', _BIGID, autoincrement=True, nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('group_id', sa.String(length=32), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('answer_id', sa.String(length=128), nullable=True),
    sa.Column('draft_id', sa.String(length=128), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('editor_id', _BIGID, nullable=True),
    sa.Column('editor_login', sa.String(length=128), nullable=True),
    sa.Column('created_at', _UTC, nullable=False),
    sa.CheckConstraint("action IN ('attach','new_answer','dismiss')", name=op.f('ck_inbox_actions_action')),
    sa.ForeignKeyConstraint(['editor_id'], ['agents.id'], name=op.f('fk_inbox_actions_editor_id_agents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_actions'))
    )
    op.create_index('ix_inbox_actions_created', 'inbox_actions', ['created_at'], unique=False)
    op.create_table('inbox_items',
    sa.Column('id', _BIGID, autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('asked_at', _UTC, nullable=False),
    sa.Column('municipality', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('embedding', sa.LargeBinary(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('action_id', _BIGID, nullable=True),
    sa.Column('created_at', _UTC, nullable=False),
    sa.Column('updated_at', _UTC, nullable=False),
    sa.CheckConstraint("kind IN ('no_answer','clarification','not_helpful','escalation')", name=op.f('ck_inbox_items_kind')),
    sa.CheckConstraint("status IN ('open','attached','drafted','dismissed')", name=op.f('ck_inbox_items_status')),
    sa.ForeignKeyConstraint(['action_id'], ['inbox_actions.id'], name=op.f('fk_inbox_items_action_id_inbox_actions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_inbox_items_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_items')),
    sa.UniqueConstraint('conversation_id', 'seq', name='uq_inbox_items_conversation_seq')
    )
    op.create_index('ix_inbox_items_language_asked', 'inbox_items', ['language', 'asked_at'], unique=False)
    op.create_index('ix_inbox_items_unembedded', 'inbox_items', ['id'], unique=False,
                    sqlite_where=sa.text('embedding IS NULL'), postgresql_where=sa.text('embedding IS NULL'))
    # Recompute every conversation once, so the refresher captures the inbox items of what is stored.
    op.execute("UPDATE conversation_outcomes SET source_seq = -1")


def downgrade() -> None:
    op.drop_index('ix_inbox_items_unembedded', table_name='inbox_items')
    op.drop_index('ix_inbox_items_language_asked', table_name='inbox_items')
    op.drop_table('inbox_items')
    op.drop_index('ix_inbox_actions_created', table_name='inbox_actions')
    op.drop_table('inbox_actions')
