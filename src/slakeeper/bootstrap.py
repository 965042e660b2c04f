"""The one place that turns settings into a running system: engine, store, services' ports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)

from slakeeper.adapters.notify.email import EmailNotifier, FanOutNotifier
from slakeeper.adapters.notify.subscribers import SubscriberNotifier
from slakeeper.adapters.notify.webhook import SlackNotifier, WebhookNotifier
from slakeeper.adapters.store import migrate
from slakeeper.adapters.store.engine import make_engine
from slakeeper.adapters.store.repository import SqlUnitOfWorkFactory
from slakeeper.config import Settings
from slakeeper.services.ports import Notifier, StoreUnavailable, UnitOfWorkFactory


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


#: Errors raised by the store. :func:`store_failure` says what each means for a request.
STORE_ERRORS: tuple[type[Exception], ...] = (StoreUnavailable, DBAPIError)
#: The store is unreachable: requests fail closed with 503 (readiness checks catch these).
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    StoreUnavailable,
    OperationalError,
    InterfaceError,
)

#: SQLSTATEs of a transaction that lost a race and may simply be retried.
_RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}


def store_failure(exc: Exception) -> str:
    """``conflict`` (a lost race: retry), ``invalid`` (a value the store refuses), or
    ``unavailable`` (anything else: the store cannot be trusted to answer; fail closed)."""
    if isinstance(exc, IntegrityError):
        return "conflict"
    if isinstance(exc, DBAPIError):
        sqlstate = getattr(exc.orig, "sqlstate", None)
        if sqlstate in _RETRYABLE_SQLSTATES:
            return "conflict"
        if isinstance(exc, DataError):
            return "invalid"
    return "unavailable"


@dataclass
class Container:
    settings: Settings
    engine: Engine
    uow: UnitOfWorkFactory
    clock: SystemClock
    notifier: Notifier | None = None
    subscriber_notifier: Notifier | None = None

    def is_migrated(self) -> bool:
        return migrate.is_migrated(self.engine)

    def upgrade(self) -> None:
        migrate.upgrade(self.engine)

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    def close(self) -> None:
        self.engine.dispose()


def build_notifier(settings: Settings) -> Notifier | None:
    """Webhook and/or email from the settings; None when neither is configured."""
    notifiers: list[Notifier] = []
    if settings.webhook_url:
        notifiers.append(WebhookNotifier(settings.webhook_url, settings.webhook_secret))
    if settings.slack_webhook_url:
        notifiers.append(SlackNotifier(settings.slack_webhook_url))
    if settings.smtp_host and settings.notify_email:
        recipients = [r.strip() for r in settings.notify_email.split(",") if r.strip()]
        notifiers.append(
            EmailNotifier(settings.smtp_host, settings.smtp_port, settings.smtp_from, recipients)
        )
    if not notifiers:
        return None
    return notifiers[0] if len(notifiers) == 1 else FanOutNotifier(notifiers)


def build(settings: Settings | None = None) -> Container:
    settings = settings or Settings()
    engine = make_engine(
        settings.database_url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms
    )
    notifier = build_notifier(settings)
    return Container(
        settings=settings,
        engine=engine,
        uow=SqlUnitOfWorkFactory(engine),
        clock=SystemClock(),
        notifier=notifier,
        subscriber_notifier=SubscriberNotifier(
            settings.public_url or f"http://{settings.host}:{settings.port}",
            smtp_host=settings.smtp_host,
            smtp_port=settings.smtp_port,
            sender=settings.smtp_from,
            webhook_secret=settings.webhook_secret,
        ),
    )
