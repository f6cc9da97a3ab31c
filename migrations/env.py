"""Alembic environment for rolebot.

Run through ``rolebot db upgrade`` (which hands over its own connection), or with the
``alembic`` command from a checkout (the URL then comes from rolebot's settings:
``DATABASE_URL``, else the SQLite file in ``ROLEBOT_DATA_DIR``).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from bot.config import Settings
from bot.store import metadata
from bot.store.engine import create_db_engine

config = context.config
target_metadata = metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    """``alembic upgrade --sql``: print the SQL instead of running it."""
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=_url().startswith("sqlite"),
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_db_engine(_url())
    try:
        with engine.begin() as own:
            _configure(own)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


def _url() -> str:
    # Set by `rolebot db ...`; the `alembic` command (pyproject.toml, no .ini) has no such option.
    if config.file_config.has_section(config.config_ini_section):
        url = config.get_main_option("sqlalchemy.url")
        if url:
            return url
    return Settings.from_env().effective_database_url


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
