import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from handoff_bridge.db.engine import make_engine


async def test_database_errors_carry_no_statement_parameters(backend_settings):
    """The bridge logs database errors ("storing 1 citizen messages failed: ..."):
    their text never holds the parameters, which are what citizens typed."""
    engine = make_engine(backend_settings, pool_size=1)
    try:
        async with engine.connect() as conn:
            with pytest.raises(DBAPIError) as failed:
                await conn.execute(text("SELECT no_such_column FROM messages WHERE text = :t"),
                                   {"t": "mit nummer er １ ２/０９–７５０"})
    finally:
        await engine.dispose()
    assert "no_such_column" in str(failed.value)
    assert "０９" not in str(failed.value) and "SQL parameters hidden" in str(failed.value)
