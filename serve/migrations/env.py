"""Alembic's entry point. The URL comes from rebut's settings (or from the caller, which
passes a connection in `config.attributes`), so migrations run against the same database
the server uses."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool, text

from serve.config import get_settings
from serve.tables import Base

config = context.config
target_metadata = Base.metadata

# Any constant: every rebut process that upgrades one PostgreSQL database takes this lock,
# so `rebut serve --workers 4` runs each migration once.
_PG_LOCK_ID = 0x7265627574  # "rebut"


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID})
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
