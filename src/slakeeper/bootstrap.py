"""The one place that turns settings into a running system: engine, store, services' ports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from slakeeper.adapters.store import migrate
from slakeeper.adapters.store.engine import make_engine
from slakeeper.adapters.store.repository import SqlUnitOfWorkFactory
from slakeeper.config import Settings
from slakeeper.services.ports import StoreUnavailable, UnitOfWorkFactory


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


#: Errors that mean "the store is unreachable": requests fail closed with 503 on these.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    StoreUnavailable,
    OperationalError,
    DBAPIError,
)


@dataclass
class Container:
    settings: Settings
    engine: Engine
    uow: UnitOfWorkFactory
    clock: SystemClock

    def is_migrated(self) -> bool:
        return migrate.is_migrated(self.engine)

    def upgrade(self) -> None:
        migrate.upgrade(self.engine)

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    def close(self) -> None:
        self.engine.dispose()


def build(settings: Settings | None = None) -> Container:
    settings = settings or Settings()
    engine = make_engine(
        settings.database_url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms
    )
    return Container(
        settings=settings, engine=engine, uow=SqlUnitOfWorkFactory(engine), clock=SystemClock()
    )
