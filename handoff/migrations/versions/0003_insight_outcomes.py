"""Insight: per-conversation outcomes and unanswered questions.

Revision ID: 0003_insight_outcomes
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa
import handoff_bridge.db.models


revision = '0003_insight_outcomes'
down_revision = '0002'
branch_labels = None
depends_on = None

_UTC = handoff_bridge.db.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('conversation_outcomes',
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('municipality', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('started_at', _UTC, nullable=False),
    sa.Column('local_weekday', sa.Integer(), nullable=False),
    sa.Column('local_hour', sa.Integer(), nullable=False),
    sa.Column('in_opening_hours', sa.Boolean(), nullable=False),
    sa.Column('topic', sa.String(length=128), nullable=True),
    sa.Column('citizen_messages', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Boolean(), nullable=False),
    sa.Column('fallback_turns', sa.Integer(), nullable=False),
    sa.Column('helpful_yes', sa.Integer(), nullable=False),
    sa.Column('helpful_no', sa.Integer(), nullable=False),
    sa.Column('repeated_question', sa.Boolean(), nullable=False),
    sa.Column('abandoned_clarification', sa.Boolean(), nullable=False),
    sa.Column('identity_failed', sa.Boolean(), nullable=False),
    sa.Column('escalated', sa.Boolean(), nullable=False),
    sa.Column('resolved', sa.Boolean(), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('source_seq', sa.Integer(), nullable=False),
    sa.Column('source_mode', sa.String(length=16), nullable=False),
    sa.Column('computed_at', _UTC, nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_conversation_outcomes_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', name=op.f('pk_conversation_outcomes'))
    )
    op.create_index('ix_conversation_outcomes_started', 'conversation_outcomes', ['started_at'], unique=False)
    op.create_index('ix_conversation_outcomes_municipality_started', 'conversation_outcomes', ['municipality', 'started_at'], unique=False)
    op.create_index('ix_conversation_outcomes_topic_started', 'conversation_outcomes', ['topic', 'started_at'], unique=False)
    op.create_table('unanswered_questions',
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('asked_at', _UTC, nullable=False),
    sa.Column('municipality', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('fallback_topic', sa.String(length=128), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_unanswered_questions_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', 'seq', name=op.f('pk_unanswered_questions'))
    )
    op.create_index('ix_unanswered_questions_asked', 'unanswered_questions', ['asked_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_unanswered_questions_asked', table_name='unanswered_questions')
    op.drop_table('unanswered_questions')
    op.drop_index('ix_conversation_outcomes_topic_started', table_name='conversation_outcomes')
    op.drop_index('ix_conversation_outcomes_municipality_started', table_name='conversation_outcomes')
    op.drop_index('ix_conversation_outcomes_started', table_name='conversation_outcomes')
    op.drop_table('conversation_outcomes')
