"""The migrations build exactly the schema the code declares, on both stores."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from slakeeper.adapters.store import migrate
from slakeeper.adapters.store.engine import make_engine
from slakeeper.adapters.store.tables import metadata


def test_the_migrated_schema_matches_the_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert not migrate.is_migrated(engine)
        migrate.upgrade(engine)
        assert migrate.is_migrated(engine)
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
        assert differences == []
    finally:
        engine.dispose()


def test_every_migration_can_be_undone_and_redone(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine)
        command.downgrade(migrate.alembic_config(engine), "base")
        assert migrate.current_revision(engine) is None
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()
