"""The Alembic migration produces exactly the schema the models describe, on both backends."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from handoff_bridge.db.engine import make_engine
from handoff_bridge.db.models import Base


async def test_migrated_schema_matches_models(backend_settings):
    engine = make_engine(backend_settings, pool_size=1)

    def diff(sync_conn):
        ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        return compare_metadata(ctx, Base.metadata)

    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
    await engine.dispose()
    assert differences == []
