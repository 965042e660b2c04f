"""pytest plugin: real, empty databases for tests (SQLite and PostgreSQL).

Registered from ``tests/conftest.py`` (``pytest_plugins = ["conftest_db"]``). Fixtures:

``database_url``
    Parametrized over ``sqlite`` and ``postgresql`` (those are the test ids): a fresh, EMPTY
    database per test, as a SQLAlchemy URL. The ``postgresql`` case carries the
    ``postgresql`` marker, so ``-m "not postgresql"`` runs the SQLite half only.
``sqlite_url``
    Only SQLite: ``sqlite:///{tmp_path}/slakeeper.db`` (the file does not exist yet).
``postgresql_url``
    Only PostgreSQL: a new database on the session's server, dropped (``WITH (FORCE)``) after
    the test.
``postgres_server``
    Session-wide: the server those databases live on (``pg.PostgresServer``: ``url``,
    ``create_database(name)``, ``drop_database(name)``, ``connect()``).

Which PostgreSQL server:

* ``SLAKEEPER_TEST_POSTGRES_URL`` set: that server (a URL of an existing database, as a role
  allowed to ``CREATE DATABASE``). Unreachable is a failure.
* otherwise each test session starts a :class:`pg.ThrowawayPostgres` the first time a test
  needs it and stops it at the end. Under xdist every worker has a session of its own, hence
  a cluster of its own: about 1.3 s of start-up per worker, in parallel, and no lock files, no
  cross-process reference counting and no worker stopping a server another one still uses.
* PostgreSQL programs not installed: the PostgreSQL tests are skipped, or fail when
  ``SLAKEEPER_REQUIRE_SERVICES=1`` (CI sets it, so a missing server cannot pass unnoticed).

Engines a test creates should be disposed (``engine.dispose()``) before it ends: the database
is dropped with ``WITH (FORCE)`` and a pooled psycopg connection that is garbage-collected
later warns (``ResourceWarning``), which this project's ``filterwarnings = error`` turns into
a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

import pg

#: A URL of an existing PostgreSQL server to use instead of a throwaway cluster.
POSTGRES_URL_ENV = "SLAKEEPER_TEST_POSTGRES_URL"

#: ``1`` turns "service not installed" from a skip into a failure.
REQUIRE_SERVICES_ENV = "SLAKEEPER_REQUIRE_SERVICES"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgresql: runs against a real PostgreSQL server (see tests/conftest_db.py)"
    )


def services_required() -> bool:
    """Whether a missing external program must fail the tests rather than skip them."""
    return os.environ.get(REQUIRE_SERVICES_ENV, "").strip().lower() in {"1", "true", "yes"}


def missing_service(message: str) -> NoReturn:
    """Skip the current test for ``message``, or fail it under ``SLAKEEPER_REQUIRE_SERVICES=1``."""
    if services_required():
        pytest.fail(f"{message} ({REQUIRE_SERVICES_ENV}=1 makes this a failure)", pytrace=False)
    pytest.skip(f"{message} (set {REQUIRE_SERVICES_ENV}=1 to fail instead)")


def open_postgres_server() -> pg.PostgresServer:
    """The server for this session: the configured one, or a started throwaway cluster."""
    configured = os.environ.get(POSTGRES_URL_ENV)
    if configured:
        try:
            server = pg.PostgresServer(configured)
            server.check()
        except Exception as error:
            pytest.fail(
                f"{POSTGRES_URL_ENV} ({pg.safe_url(configured)}) is not usable: {error}",
                pytrace=False,
            )
        return server
    bin_dir = pg.find_postgres_bin_dir()
    if bin_dir is None:
        missing_service(
            "PostgreSQL server programs (initdb, pg_ctl, postgres) not found: run "
            "scripts/system-deps.sh (apt-get install postgresql), set "
            f"{pg.BIN_DIR_ENV}, or point {POSTGRES_URL_ENV} at a server"
        )
    cluster = pg.ThrowawayPostgres(bin_dir=bin_dir)
    cluster.start()
    return cluster


def new_database_name() -> str:
    """A database name unique across xdist workers and concurrent runs on a shared server."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"slk_{worker}_{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[pg.PostgresServer]:
    server = open_postgres_server()
    try:
        yield server
    finally:
        if isinstance(server, pg.ThrowawayPostgres):
            server.stop()


@pytest.fixture
def postgresql_url(postgres_server: pg.PostgresServer) -> Iterator[str]:
    name = new_database_name()
    url = postgres_server.create_database(name)
    try:
        yield url
    finally:
        postgres_server.drop_database(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/slakeeper.db"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def database_url(request: pytest.FixtureRequest) -> str:
    # Looked up lazily so the SQLite half never needs (or waits for) a PostgreSQL server.
    return str(request.getfixturevalue(f"{request.param}_url"))
