"""The editor role; the knowledge-base content store (answers, drafts, revisions,
publications, the regression set) and the editors' audit log.

Revision ID: 0004_editor_and_answers
Revises: 0003_insight_outcomes
"""

from alembic import op
import sqlalchemy as sa
import handoff_bridge.db.models


revision = '0004_editor_and_answers'
down_revision = '0003_insight_outcomes'
branch_labels = None
depends_on = None

_UTC = handoff_bridge.db.models.UTCDateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _role_check(roles: str) -> None:
    # SQLite cannot alter a constraint: batch mode copies the table (env.py turns
    # foreign key enforcement off around it, so referencing rows are untouched).
    with op.batch_alter_table('agents') as batch:
        batch.drop_constraint(op.f('ck_agents_role'), type_='check')
        batch.create_check_constraint(op.f('ck_agents_role'), f"role IN ({roles})")


def upgrade() -> None:
    _role_check("'agent','supervisor','editor'")
    op.create_table('kb_categories',
    sa.Column('category', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('header', sa.Text(), nullable=False),
    sa.Column('attribution', sa.JSON(), nullable=True),
    sa.Column('created_at', _UTC, nullable=False),
    sa.PrimaryKeyConstraint('category', name=op.f('pk_kb_categories'))
    )
    op.create_table('kb_publications',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('version', sa.String(length=128), nullable=True),
    sa.Column('changed', sa.JSON(), nullable=False),
    sa.Column('gate', sa.JSON(), nullable=True),
    sa.Column('created_at', _UTC, nullable=False),
    sa.Column('created_by', _ID, nullable=True),
    sa.Column('created_by_login', sa.String(length=128), nullable=True),
    sa.CheckConstraint("kind IN ('import','publish','rollback')", name=op.f('ck_kb_publications_kind')),
    sa.ForeignKeyConstraint(['created_by'], ['agents.id'], name=op.f('fk_kb_publications_created_by_agents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_publications'))
    )
    op.create_index('ix_kb_publications_created', 'kb_publications', ['created_at'], unique=False)
    op.create_table('kb_revisions',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('answer_id', sa.String(length=80), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=80), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('publication_id', _ID, nullable=True),
    sa.Column('restores_revision_id', sa.Integer(), nullable=True),
    sa.Column('created_at', _UTC, nullable=False),
    sa.Column('created_by', _ID, nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['agents.id'], name=op.f('fk_kb_revisions_created_by_agents')),
    sa.ForeignKeyConstraint(['publication_id'], ['kb_publications.id'], name=op.f('fk_kb_revisions_publication_id_kb_publications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_revisions')),
    sa.UniqueConstraint('answer_id', 'number', name='uq_kb_revisions_answer_number')
    )
    op.create_index('ix_kb_revisions_publication', 'kb_revisions', ['publication_id'], unique=False)
    op.create_table('kb_answers',
    sa.Column('id', sa.String(length=80), nullable=False),
    sa.Column('category', sa.String(length=80), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('published_revision_id', _ID, nullable=True),
    sa.Column('draft', sa.JSON(), nullable=True),
    sa.Column('draft_version', sa.Integer(), nullable=False),
    sa.Column('draft_updated_at', _UTC, nullable=True),
    sa.Column('draft_updated_by', _ID, nullable=True),
    sa.Column('created_at', _UTC, nullable=False),
    sa.ForeignKeyConstraint(['category'], ['kb_categories.category'], name=op.f('fk_kb_answers_category_kb_categories')),
    sa.ForeignKeyConstraint(['draft_updated_by'], ['agents.id'], name=op.f('fk_kb_answers_draft_updated_by_agents')),
    sa.ForeignKeyConstraint(['published_revision_id'], ['kb_revisions.id'], name=op.f('fk_kb_answers_published_revision_id_kb_revisions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_answers'))
    )
    op.create_table('kb_regression_questions',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('answer_id', sa.String(length=80), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('question_hash', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('added_at', _UTC, nullable=False),
    sa.Column('added_by', _ID, nullable=True),
    sa.CheckConstraint("language IN ('da','sv')", name=op.f('ck_kb_regression_questions_language')),
    sa.ForeignKeyConstraint(['added_by'], ['agents.id'], name=op.f('fk_kb_regression_questions_added_by_agents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_regression_questions')),
    sa.UniqueConstraint('answer_id', 'language', 'question_hash', name='uq_kb_regression_questions_question')
    )
    op.create_table('kb_support_files',
    sa.Column('path', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('updated_at', _UTC, nullable=False),
    sa.PrimaryKeyConstraint('path', name=op.f('pk_kb_support_files'))
    )
    op.create_table('kb_publish_lock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=True),
    sa.Column('acquired_at', _UTC, nullable=True),
    sa.Column('expires_at', _UTC, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_publish_lock'))
    )
    op.create_table('editor_audit_log',
    sa.Column('id', _ID, autoincrement=True, nullable=False),
    sa.Column('created_at', _UTC, nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_login', sa.String(length=128), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=160), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.CheckConstraint("actor_type IN ('editor','system')", name=op.f('ck_editor_audit_log_actor_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_editor_audit_log'))
    )
    op.create_index('ix_editor_audit_log_subject_created', 'editor_audit_log', ['subject', 'created_at'], unique=False)
    op.create_index('ix_editor_audit_log_created', 'editor_audit_log', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_editor_audit_log_created', table_name='editor_audit_log')
    op.drop_index('ix_editor_audit_log_subject_created', table_name='editor_audit_log')
    op.drop_table('editor_audit_log')
    op.drop_table('kb_publish_lock')
    op.drop_table('kb_support_files')
    op.drop_table('kb_regression_questions')
    op.drop_table('kb_answers')
    op.drop_index('ix_kb_revisions_publication', table_name='kb_revisions')
    op.drop_table('kb_revisions')
    op.drop_index('ix_kb_publications_created', table_name='kb_publications')
    op.drop_table('kb_publications')
    op.drop_table('kb_categories')
    op.execute("DELETE FROM agent_sessions WHERE agent_id IN (SELECT id FROM agents WHERE role = 'editor')")
    op.execute("UPDATE agents SET active = false WHERE role = 'editor'")
    op.execute("UPDATE agents SET role = 'agent' WHERE role = 'editor'")
    _role_check("'agent','supervisor'")
