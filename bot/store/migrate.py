"""Running the Alembic migrations from code: ``rolebot db upgrade``, and the check at start.

The Alembic configuration is built here rather than read from a file, so migrations work from a
source checkout (the top-level ``migrations/`` folder) and from an installed wheel (where the
same folder travels as ``bot/_bundled/migrations``).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import StoreError
from bot.store.engine import is_sqlite, reading, safe_url

_PACKAGE = Path(__file__).resolve().parents[1]


def migrations_dir() -> Path:
    """The migration scripts: inside the wheel, or the checkout's ``migrations/``."""
    for candidate in (_PACKAGE / "_bundled" / "migrations", _PACKAGE.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise StoreError(  # pragma: no cover - only a broken installation gets here
        "the database migrations are missing from this installation; reinstall rolebot"
    )


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic configuration pointing at the migrations (and at ``engine``, when given)."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("path_separator", "os")
    if engine is not None:
        url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
        config.set_main_option("sqlalchemy.url", url)
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations folder has no revisions"
    return head


@dataclass(frozen=True)
class SchemaState:
    current: tuple[str, ...]
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == (self.head,)

    @property
    def empty(self) -> bool:
        return not self.current

    def describe(self) -> str:
        now = ", ".join(self.current) or "empty (no tables yet)"
        note = "up to date" if self.up_to_date else f"behind head {self.head}"
        return f"{now} ({note})"


def schema_state(engine: Engine) -> SchemaState:
    """Which revision the database is at, and the newest this rolebot knows."""
    head = head_revision()
    try:
        with reading(engine).connect() as connection:  # never waits for a writer
            current = MigrationContext.configure(connection).get_current_heads()
    except SQLAlchemyError as error:
        raise _unreachable(engine, error) from None
    known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    unknown = [rev for rev in current if rev not in known]
    if unknown:
        raise StoreError(
            f"the database at {safe_url(engine.url)} is at revision {', '.join(unknown)}, "
            "which this rolebot does not know: upgrade rolebot"
        )
    return SchemaState(tuple(current), head)


def upgrade(engine: Engine, revision: str = "head") -> SchemaState:
    """Migrate the database up to ``revision``."""
    _run(engine, lambda config: command.upgrade(config, revision))
    return schema_state(engine)


def downgrade(engine: Engine, revision: str) -> SchemaState:
    """Migrate the database down to ``revision`` (``base`` drops every table)."""
    _run(engine, lambda config: command.downgrade(config, revision))
    return schema_state(engine)


def ensure_schema(engine: Engine, *, auto: bool) -> SchemaState:
    """At start: bring the database to head (``auto``), or stop if it is behind."""
    if auto:
        with _migration_lock(engine):
            state = schema_state(engine)
            if not state.up_to_date:
                state = upgrade(engine)
        return state
    state = schema_state(engine)
    if not state.up_to_date:
        raise StoreError(
            f"the database at {safe_url(engine.url)} is at {state.describe()}: "
            "run `rolebot db upgrade`"
        )
    return state


def _run(engine: Engine, action: Callable[[Config], None]) -> None:
    config = alembic_config(engine)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            action(config)
    except SQLAlchemyError as error:
        raise _unreachable(engine, error, "migrating") from None
    except CommandError as error:
        raise StoreError(f"migrating the database at {safe_url(engine.url)}: {error}") from None


def _unreachable(engine: Engine, error: SQLAlchemyError, doing: str = "reading") -> StoreError:
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    return StoreError(f"{doing} the database at {safe_url(engine.url)} failed: {reason}")


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """For SQLite: one process at a time migrates the file (several workers may start at once)."""
    database = engine.url.database if is_sqlite(engine) else None
    if not database:
        yield
        return
    lock_path = Path(database).expanduser().with_name(Path(database).name + ".migrate-lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as error:
        raise StoreError(
            f"cannot open the SQLite database at {safe_url(engine.url)}: its folder "
            f"{lock_path.parent} is not writable ({error.strerror or error}); SQLite needs to "
            "write beside the file: point ROLEBOT_DATA_DIR or DATABASE_URL at a writable folder"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
