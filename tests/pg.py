"""Throwaway PostgreSQL clusters for the test suite.

A :class:`ThrowawayPostgres` is a complete, private PostgreSQL server: ``initdb`` into a fresh
temporary directory, ``pg_ctl start`` on a free loopback port, and on ``stop()`` the server is
stopped and the directory removed. It is tuned for tests, not for durability
(``fsync``, ``synchronous_commit`` and ``full_page_writes`` are off), and trusts every local
and ``127.0.0.1`` connection, so its URLs carry no password::

    cluster = ThrowawayPostgres()
    url = cluster.start()          # postgresql+psycopg://slakeeper@127.0.0.1:PORT/slakeeper_test
    other = cluster.create_database("case_1")   # a fresh, empty database (TEMPLATE template0)
    ...
    cluster.drop_database("case_1")
    cluster.stop()

:class:`PostgresServer` is the same database-handing part for a server that already runs (CI
may provide one through ``SLAKEEPER_TEST_POSTGRES_URL``; see ``conftest_db``).

Running as root (CI and the development machines do), PostgreSQL refuses to start, so
``initdb`` and ``pg_ctl`` run through ``runuser -u USER --`` as an unprivileged OS user: the
``postgres`` user of Debian's package when it exists, else ``slakeeper-pg``, which is created
(``useradd --system``) on first use.

Nothing is left behind: :meth:`~ThrowawayPostgres.stop` is idempotent and registered with
:mod:`atexit`, and a small watchdog process (in a session of its own) stops the server and
removes its directory if the process that started it dies without cleaning up, even by
``SIGKILL``.

Requires PostgreSQL 13 or newer (``DROP DATABASE ... WITH (FORCE)``).
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

#: Environment variable naming a directory holding ``initdb``, ``pg_ctl`` and ``postgres``.
BIN_DIR_ENV = "SLAKEEPER_PG_BIN_DIR"

#: The programs a throwaway cluster needs.
REQUIRED_PROGRAMS = ("initdb", "pg_ctl", "postgres")

#: Names :meth:`PostgresServer.create_database` accepts (a plain, unquoted SQL identifier).
DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

#: OS user created to run the server when running as root and no ``postgres`` user exists.
FALLBACK_OS_USER = "slakeeper-pg"

#: Free space ``/dev/shm`` needs for clusters to live there (Docker's default 64 MB is too little).
SHM_ROOM = 2 << 30

#: Settings appended to the cluster's ``postgresql.conf`` (speed over durability).
TEST_SETTINGS: dict[str, str] = {
    "max_connections": "100",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_wal_size": "'256MB'",  # bounds the WAL kept in memory when the cluster is on /dev/shm
    "min_wal_size": "'32MB'",
    "jit": "off",
    "timezone": "'UTC'",
    "lc_messages": "'C'",
}


class PostgresNotFound(RuntimeError):
    """The PostgreSQL server programs are not installed (or not where we look)."""


class PostgresStartError(RuntimeError):
    """A throwaway cluster could not be created or did not come up."""


def find_postgres_bin_dir() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``, or None if there is none.

    Looks at ``$SLAKEEPER_PG_BIN_DIR`` (only there, when it is set), then next to ``initdb``
    on ``PATH`` (symlinks resolved), then the newest ``/usr/lib/postgresql/*/bin`` (Debian) and
    ``/usr/pgsql-*/bin`` (RHEL).
    """

    def complete(directory: Path) -> bool:
        return all(os.access(directory / name, os.X_OK) for name in REQUIRED_PROGRAMS)

    configured = os.environ.get(BIN_DIR_ENV)
    if configured:
        return Path(configured) if complete(Path(configured)) else None
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)

    def version(directory: Path) -> tuple[int, ...]:
        digits = re.findall(r"\d+", directory.parent.name)
        return tuple(int(d) for d in digits)

    for pattern in ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin"):
        found = [Path(p) for p in glob.glob(pattern)]
        candidates.extend(sorted(found, key=version, reverse=True))
    return next((c for c in candidates if complete(c)), None)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def default_parent_dir() -> str:
    """Where clusters live: ``/dev/shm`` when it has room, else ``/tmp``.

    A memory file system makes a cluster start in about half the time and ``CREATE DATABASE``
    several times faster than on the (discard-mounted) disk. Paths stay short either way: the
    socket's full path must fit in 107 bytes.
    """
    for candidate, room in (("/dev/shm", SHM_ROOM), ("/tmp", 0)):
        try:
            stat = os.statvfs(candidate)
        except OSError:
            continue
        if stat.f_bavail * stat.f_frsize >= room and os.access(candidate, os.W_OK | os.X_OK):
            return candidate
    return tempfile.gettempdir()


def safe_url(url: str) -> str:
    """``url`` with any password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


class PostgresServer:
    """A running PostgreSQL server that hands out databases.

    ``url`` is a SQLAlchemy URL of an existing database on the server, as a role that may
    ``CREATE DATABASE``; ``admin_database`` is the database administrative statements are run
    from (default: the one in ``url``).
    """

    def __init__(self, url: str, *, admin_database: str | None = None) -> None:
        self._url: str | None = None
        self._admin_database = admin_database
        self._set_url(url)

    def _set_url(self, url: str) -> None:
        parsed = make_url(url)
        if parsed.get_backend_name() != "postgresql":
            raise ValueError(f"not a PostgreSQL URL: {safe_url(url)}")
        self._url = parsed.set(drivername="postgresql+psycopg").render_as_string(
            hide_password=False
        )

    @property
    def url(self) -> str:
        """SQLAlchemy URL (``postgresql+psycopg://...``) of the server's default database."""
        if self._url is None:
            raise RuntimeError("the server is not running; call start() first")
        return self._url

    def url_for(self, name: str) -> str:
        """SQLAlchemy URL of database ``name`` on this server."""
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def connect(self, database: str | None = None) -> psycopg.Connection[Any]:
        """A plain psycopg connection (autocommit) to ``database`` (default: the admin one)."""
        parsed = make_url(self.url)
        if database is None:
            database = self._admin_database or parsed.database
        args: dict[str, Any] = parsed.translate_connect_args(username="user", database="dbname")
        args["dbname"] = database
        args.update({k: v for k, v in parsed.query.items() if isinstance(v, str)})
        args.setdefault("connect_timeout", 10)
        return psycopg.connect(autocommit=True, **args)

    def check(self) -> None:
        """Raise if the server does not answer a query."""
        with self.connect() as conn:
            conn.execute("SELECT 1")

    def create_database(self, name: str) -> str:
        """Create an empty database ``name`` (UTF-8, from ``template0``); return its URL.

        ``name`` must be a plain lower-case identifier (``[a-z_][a-z0-9_]*``, at most 63).
        """
        _check_name(name)
        statement = sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
            sql.Identifier(name)
        )
        with self.connect() as conn:
            conn.execute(statement)
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists, disconnecting anyone still connected to it."""
        _check_name(name)
        statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        with self.connect() as conn:
            conn.execute(statement)


def _check_name(name: str) -> None:
    if not DATABASE_NAME.match(name):
        raise ValueError(f"database name must match {DATABASE_NAME.pattern}: {name!r}")


class ThrowawayPostgres(PostgresServer):
    """A private PostgreSQL cluster in a temporary directory, for one test session.

    The directory is made in ``parent_dir`` (default: :func:`default_parent_dir`).

    ``bin_dir`` defaults to :func:`find_postgres_bin_dir`; ``os_user`` (only used when running
    as root) to ``postgres`` if it exists, else ``slakeeper-pg`` (created if missing). The
    superuser role is ``role``; ``database`` is created at start and is the one ``url`` names.
    Usable as a context manager.
    """

    def __init__(
        self,
        *,
        database: str = "slakeeper_test",
        role: str = "slakeeper",
        bin_dir: Path | str | None = None,
        os_user: str | None = None,
        startup_timeout: float = 30.0,
        parent_dir: str | None = None,
    ) -> None:
        _check_name(database)
        self._url = None
        self._admin_database = "postgres"
        self.database = database
        self.role = role
        self.startup_timeout = startup_timeout
        self._bin_dir = Path(bin_dir) if bin_dir is not None else None
        self._os_user = os_user
        self._parent_dir = parent_dir
        self.base_dir: Path | None = None
        self.port: int | None = None
        self._owner_pid: int | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None

    # -- paths ----------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        assert self.base_dir is not None
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        assert self.base_dir is not None
        return self.base_dir / "sock"

    @property
    def log_file(self) -> Path:
        assert self.base_dir is not None
        return self.base_dir / "server.log"

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> str:
        """Create and start the cluster; return the SQLAlchemy URL of ``database``.

        Raises :class:`PostgresNotFound` without the server programs and
        :class:`PostgresStartError` (with the tail of the server log) if it does not come up.
        """
        if self._url is not None:
            return self._url
        bin_dir = self._bin_dir or find_postgres_bin_dir()
        if bin_dir is None:
            raise PostgresNotFound(
                "PostgreSQL server programs (initdb, pg_ctl, postgres) not found; install them "
                f"(scripts/system-deps.sh, apt-get install postgresql) or set {BIN_DIR_ENV}"
            )
        self._bin_dir = bin_dir
        user = self._run_as_user()
        self._owner_pid = os.getpid()
        parent = self._parent_dir or default_parent_dir()
        self.base_dir = Path(tempfile.mkdtemp(prefix="slakeeper-pg-", dir=parent))
        self.socket_dir.mkdir()
        if user is not None:
            entry = pwd.getpwnam(user)
            for path in (self.base_dir, self.socket_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        atexit.register(self.stop)
        self._start_watchdog()
        try:
            self._initdb()
            self._start_server()
            self._wait_until_ready()
            with self.connect() as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
        except BaseException:
            self.stop()
            raise
        return self.url

    def stop(self) -> None:
        """Stop the server (immediate shutdown) and delete its directory. Idempotent."""
        if self._owner_pid is not None and self._owner_pid != os.getpid():
            return  # a forked child must not stop its parent's server
        atexit.unregister(self.stop)
        self._url = None
        if self.base_dir is not None and self.base_dir.exists():
            if (self.data_dir / "postmaster.pid").exists():
                result = subprocess.run(
                    self._stop_command(),
                    cwd=self.base_dir,
                    capture_output=True,
                    timeout=60,
                    check=False,
                )
                if result.returncode != 0:
                    _kill_postmaster(self.data_dir)
            shutil.rmtree(self.base_dir, ignore_errors=True)
        if self._watchdog is not None:
            watchdog, self._watchdog = self._watchdog, None
            with contextlib.suppress(OSError, ValueError):
                assert watchdog.stdin is not None
                watchdog.stdin.write(b"done\n")
                watchdog.stdin.close()
            try:
                watchdog.wait(timeout=10)
            except subprocess.TimeoutExpired:
                watchdog.kill()
                watchdog.wait()

    def __enter__(self) -> ThrowawayPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def postmaster_pid(self) -> int | None:
        """The server's process id while it runs (from ``postmaster.pid``)."""
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError, AssertionError):
            return None

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the server log (empty if there is none)."""
        try:
            text = self.log_file.read_text(errors="replace")
        except (OSError, AssertionError):
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # -- internals ------------------------------------------------------------------------

    def _run_as_user(self) -> str | None:
        """The OS user to run the server as (None: as ourselves, when not root)."""
        if os.geteuid() != 0:
            return None
        if self._os_user is None:
            self._os_user = "postgres" if _user_exists("postgres") else FALLBACK_OS_USER
        if not _user_exists(self._os_user):
            _create_system_user(self._os_user)
        return self._os_user

    def _command(self, program: str, *args: str) -> list[str]:
        assert self._bin_dir is not None
        command = [str(self._bin_dir / program), *args]
        if self._os_user is not None and os.geteuid() == 0:
            return ["runuser", "-u", self._os_user, "--", *command]
        return command

    def _stop_command(self) -> list[str]:
        return self._command("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "immediate", "-w")

    def _run(self, command: list[str], what: str, timeout: float) -> None:
        assert self.base_dir is not None
        try:
            result = subprocess.run(
                command,
                cwd=self.base_dir,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                start_new_session=True,  # a Ctrl-C in the terminal is the test runner's to handle
            )
        except subprocess.TimeoutExpired as error:
            raise PostgresStartError(f"{what} did not finish in {timeout:.0f} s") from error
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip()
            raise PostgresStartError(
                f"{what} failed (exit {result.returncode}):\n{output}\n"
                f"--- server log (tail) ---\n{self.log_tail()}"
            )

    def _initdb(self) -> None:
        self._run(
            self._command(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                self.role,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ),
            "initdb",
            timeout=120,
        )
        # Only local connections exist, and they are trusted (no passwords anywhere).
        (self.data_dir / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        )

    def _configure(self, port: int) -> None:
        settings = {
            **TEST_SETTINGS,
            "listen_addresses": "'127.0.0.1'",
            "port": str(port),
            "unix_socket_directories": f"'{self.socket_dir}'",
        }
        lines = "".join(f"{key} = {value}\n" for key, value in settings.items())
        # Later settings win; a restart with another port just appends again.
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(f"\n# slakeeper test settings\n{lines}")

    def _start_server(self) -> None:
        last_error: PostgresStartError | None = None
        for _attempt in range(5):
            port = free_port()
            self._configure(port)
            start = self._command(
                "pg_ctl",
                "start",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                str(int(self.startup_timeout)),
            )
            try:
                self._run(start, "pg_ctl start", timeout=self.startup_timeout + 10)
            except PostgresStartError as error:
                # Another process may have taken the port between our probe and the bind.
                if "could not bind" in self.log_tail(10) or "in use" in self.log_tail(10):
                    last_error = error
                    continue
                raise
            self.port = port
            self._set_url(
                URL.create(
                    "postgresql+psycopg",
                    username=self.role,
                    host="127.0.0.1",
                    port=port,
                    database=self.database,
                ).render_as_string(hide_password=False)
            )
            return
        raise PostgresStartError(f"no free port after 5 attempts: {last_error}")

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:
                with self.connect() as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as error:
                if time.monotonic() > deadline:
                    raise PostgresStartError(
                        f"PostgreSQL on 127.0.0.1:{self.port} did not accept connections "
                        f"within {self.startup_timeout:.0f} s: {error}\n"
                        f"--- server log (tail) ---\n{self.log_tail()}"
                    ) from error
                time.sleep(0.05)

    def _start_watchdog(self) -> None:
        """Start a process that cleans up if this one dies without calling :meth:`stop`.

        It waits for its stdin to close: a ``done`` line first means we cleaned up ourselves;
        anything else (our process died) makes it stop the server and delete the directory.
        """
        assert self.base_dir is not None
        plan = json.dumps({"stop": self._stop_command(), "base": str(self.base_dir)})
        self._watchdog = subprocess.Popen(
            [sys.executable, "-I", "-c", _WATCHDOG, plan],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            cwd="/",
        )


_WATCHDOG = """
import json, os, shutil, subprocess, sys
plan = json.loads(sys.argv[1])
if sys.stdin.buffer.read().strip() != b"done":
    if os.path.exists(os.path.join(plan["base"], "data", "postmaster.pid")):
        subprocess.run(plan["stop"], cwd="/", capture_output=True, timeout=60, check=False)
    shutil.rmtree(plan["base"], ignore_errors=True)
"""


def _kill_postmaster(data_dir: Path) -> None:
    """Last resort when ``pg_ctl stop`` fails: SIGKILL the postmaster named in postmaster.pid."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _create_system_user(name: str) -> None:
    """Create an unprivileged system user without a home or login shell (needs root)."""
    result = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        capture_output=True,
        text=True,
        check=False,
    )
    # Another xdist worker may have created it at the same moment.
    if result.returncode != 0 and not _user_exists(name):
        raise PostgresStartError(f"could not create OS user {name!r}: {result.stderr.strip()}")
