"""Initial schema of the handoff bridge.

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 19:33:04.899711
"""

from alembic import op
import sqlalchemy as sa
import handoff_bridge.db.models


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('login', sa.String(length=128), nullable=False),
    sa.Column('display_name', sa.String(length=128), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('municipalities', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_seen_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('agent','supervisor')", name=op.f('ck_agents_role')),
    sa.CheckConstraint("status IN ('available','busy','away','offline')", name=op.f('ck_agents_status')),
    sa.CheckConstraint('capacity >= 0 AND capacity <= 20', name=op.f('ck_agents_capacity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agents')),
    sa.UniqueConstraint('login', name=op.f('uq_agents_login'))
    )
    op.create_table('conversations',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('municipality', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('consecutive_fallbacks', sa.Integer(), nullable=False),
    sa.Column('close_reason', sa.String(length=32), nullable=True),
    sa.Column('created_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('citizen_active_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('citizen_seen_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_message_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('timed_out_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("language IN ('da','sv')", name=op.f('ck_conversations_language')),
    sa.CheckConstraint("mode IN ('bot','queued','agent','closed')", name=op.f('ck_conversations_mode')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_conversations_token_hash'))
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index('ix_conversations_mode_seen', ['mode', 'citizen_seen_at'], unique=False)

    op.create_table('queues',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('municipalities', sa.JSON(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_queues'))
    )
    op.create_table('tags',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_tags'))
    )
    op.create_table('agent_sessions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('agent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_agent_sessions_agent_id_agents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_agent_sessions_token_hash'))
    )
    op.create_table('callback_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('queue_name', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('municipality', sa.String(length=64), nullable=False),
    sa.Column('phone_encrypted', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('agent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('created_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open','in_progress','done')", name=op.f('ck_callback_requests_status')),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_callback_requests_agent_id_agents')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_callback_requests_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['queue_name'], ['queues.name'], name=op.f('fk_callback_requests_queue_name_queues')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_requests'))
    )
    with op.batch_alter_table('callback_requests', schema=None) as batch_op:
        batch_op.create_index('ix_callback_requests_status_created', ['status', 'created_at'], unique=False)

    op.create_table('canned_responses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['agents.id'], name=op.f('fk_canned_responses_created_by_agents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_canned_responses'))
    )
    op.create_table('closures',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('agent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_closures_agent_id_agents')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_closures_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closures')),
    sa.UniqueConstraint('conversation_id', name=op.f('uq_closures_conversation_id'))
    )
    op.create_table('escalations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('queue_name', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('topic', sa.String(length=128), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('enqueued_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('assigned_agent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('assigned_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('callback_offered_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assigned_agent_id'], ['agents.id'], name=op.f('fk_escalations_assigned_agent_id_agents')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_escalations_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['queue_name'], ['queues.name'], name=op.f('fk_escalations_queue_name_queues')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalations'))
    )
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.create_index('ix_escalations_queue_status_enqueued', ['queue_name', 'status', 'enqueued_at', 'id'], unique=False)
        batch_op.create_index('uq_escalations_open_per_conversation', ['conversation_id'], unique=True, sqlite_where=sa.text("status IN ('waiting','assigned')"), postgresql_where=sa.text("status IN ('waiting','assigned')"))

    op.create_table('messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('sender', sa.String(length=8), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('topic', sa.String(length=128), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('agent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('client_msg_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("sender IN ('citizen','bot','agent','system')", name=op.f('ck_messages_sender')),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_messages_agent_id_agents')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_messages_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('conversation_id', 'client_msg_id', name='uq_messages_conversation_client_msg'),
    sa.UniqueConstraint('conversation_id', 'seq', name='uq_messages_conversation_seq')
    )
    op.create_table('ratings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('score BETWEEN 1 AND 9', name=op.f('ck_ratings_score')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_ratings_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ratings')),
    sa.UniqueConstraint('conversation_id', name=op.f('uq_ratings_conversation_id'))
    )
    op.create_table('timeouts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('idle_seconds', sa.Integer(), nullable=False),
    sa.Column('created_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_timeouts_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timeouts'))
    )
    op.create_table('claims',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('escalation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('conversation_id', sa.String(length=32), nullable=False),
    sa.Column('agent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('started_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', handoff_bridge.db.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_claims_agent_id_agents')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_claims_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalations.id'], name=op.f('fk_claims_escalation_id_escalations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claims'))
    )
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index('ix_claims_agent_active', ['agent_id', 'ended_at'], unique=False)
        batch_op.create_index('uq_claims_active_per_conversation', ['conversation_id'], unique=True, sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))

    op.create_table('closure_tags',
    sa.Column('closure_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tag_code', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['closure_id'], ['closures.id'], name=op.f('fk_closure_tags_closure_id_closures'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_code'], ['tags.code'], name=op.f('fk_closure_tags_tag_code_tags')),
    sa.PrimaryKeyConstraint('closure_id', 'tag_code', name=op.f('pk_closure_tags'))
    )


def downgrade() -> None:
    op.drop_table('closure_tags')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index('uq_claims_active_per_conversation', sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
        batch_op.drop_index('ix_claims_agent_active')

    op.drop_table('claims')
    op.drop_table('timeouts')
    op.drop_table('ratings')
    op.drop_table('messages')
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_index('uq_escalations_open_per_conversation', sqlite_where=sa.text("status IN ('waiting','assigned')"), postgresql_where=sa.text("status IN ('waiting','assigned')"))
        batch_op.drop_index('ix_escalations_queue_status_enqueued')

    op.drop_table('escalations')
    op.drop_table('closures')
    op.drop_table('canned_responses')
    with op.batch_alter_table('callback_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_callback_requests_status_created')

    op.drop_table('callback_requests')
    op.drop_table('agent_sessions')
    op.drop_table('tags')
    op.drop_table('queues')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_mode_seen')

    op.drop_table('conversations')
    op.drop_table('agents')
