"""Alembic environment: runs migrations with the service's own settings."""

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import text

from handoff_bridge.db.engine import check_schema_name, make_engine
from handoff_bridge.db.models import Base
from handoff_bridge.settings import Settings

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _settings() -> Settings:
    return config.attributes.get("settings") or Settings()


def _sqlite_foreign_keys(connection, on: bool) -> None:
    """SQLite applies `PRAGMA foreign_keys` only outside a transaction, so it is
    set on the driver connection before Alembic begins. Off while migrating:
    batch mode copies a table and drops the original, which with enforcement on
    would delete (cascade) or refuse the rows that reference it."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
        if on:
            cursor.execute("PRAGMA foreign_key_check")
            broken = cursor.fetchall()
            if broken:
                raise RuntimeError(f"the migration left rows with broken foreign keys: {broken[:5]}")
    finally:
        cursor.close()


def do_run_migrations(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _sqlite_foreign_keys(connection, False)
    try:
        _run(connection)
    finally:
        if sqlite:
            _sqlite_foreign_keys(connection, True)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    settings = _settings()
    engine = make_engine(settings, pool_size=1)
    try:
        if settings.db_schema and not settings.is_sqlite:
            async with engine.begin() as conn:
                await conn.execute(
                    text(f'CREATE SCHEMA IF NOT EXISTS "{check_schema_name(settings.db_schema)}"')
                )
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(url=_settings().database_url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_async_migrations())
