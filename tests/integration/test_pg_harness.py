"""The database test harness (tests/pg.py, tests/conftest_db.py) works for real."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, inspect, make_url, text

import conftest_db
import pg

TESTS = Path(__file__).resolve().parent.parent


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie awaiting its reaper does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def bin_dir_or_skip() -> Path:
    found = pg.find_postgres_bin_dir()
    if found is None:
        conftest_db.missing_service("PostgreSQL server programs not found")
    return found


def test_each_database_url_is_empty_and_round_trips(
    database_url: str, request: pytest.FixtureRequest
) -> None:
    backend = request.node.callspec.params["database_url"]
    assert make_url(database_url).get_backend_name() == backend
    engine = create_engine(database_url)
    try:
        assert inspect(engine).get_table_names() == []
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE breach (id INTEGER PRIMARY KEY, note TEXT NOT NULL)"))
            conn.execute(
                text("INSERT INTO breach (id, note) VALUES (:id, :note)"),
                [{"id": 1, "note": "first"}, {"id": 2, "note": "zweite – ü"}],
            )
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, note FROM breach ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, "first"), (2, "zweite – ü")]
    finally:
        engine.dispose()


def test_sqlite_url_names_a_new_file_in_the_test_directory(sqlite_url: str, tmp_path: Path) -> None:
    path = Path(make_url(sqlite_url).database or "")
    assert path == tmp_path / "slakeeper.db"
    assert not path.exists()


@pytest.mark.postgresql
def test_databases_on_the_server_are_isolated(postgres_server: pg.PostgresServer) -> None:
    names = [conftest_db.new_database_name() for _ in range(2)]
    engines = [create_engine(postgres_server.create_database(name)) for name in names]
    try:
        first, second = engines
        with first.begin() as conn:
            conn.execute(text("CREATE TABLE only_here (v INTEGER)"))
            conn.execute(text("INSERT INTO only_here VALUES (1)"))
        assert inspect(second).get_table_names() == []
        with second.begin() as conn:
            conn.execute(text("CREATE TABLE only_here (v INTEGER)"))
            conn.execute(text("INSERT INTO only_here VALUES (2), (3)"))
        with first.connect() as conn:
            assert conn.execute(text("SELECT v FROM only_here")).scalars().all() == [1]
        with second.connect() as conn:
            assert conn.execute(text("SELECT v FROM only_here ORDER BY v")).scalars().all() == [
                2,
                3,
            ]
    finally:
        for engine in engines:
            engine.dispose()
        for name in names:
            postgres_server.drop_database(name)


@pytest.mark.postgresql
def test_drop_database_disconnects_open_sessions(postgres_server: pg.PostgresServer) -> None:
    name = conftest_db.new_database_name()
    postgres_server.create_database(name)
    with postgres_server.connect(name) as held_open:
        postgres_server.drop_database(name)
        with postgres_server.connect() as admin:
            left = admin.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [name])
            assert left.fetchone() == (0,)
        with pytest.raises(psycopg.OperationalError):
            held_open.execute("SELECT 1")


@pytest.mark.postgresql
def test_a_configured_server_url_is_used_instead_of_a_throwaway_cluster(
    postgres_server: pg.PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(conftest_db.POSTGRES_URL_ENV, postgres_server.url)
    server = conftest_db.open_postgres_server()
    assert not isinstance(server, pg.ThrowawayPostgres)
    assert server.url == postgres_server.url
    name = conftest_db.new_database_name()
    assert make_url(server.create_database(name)).database == name
    server.drop_database(name)


def test_an_unreachable_configured_server_fails_without_showing_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"postgresql://someone:hunter2@127.0.0.1:{pg.free_port()}/nothing?connect_timeout=2"
    monkeypatch.setenv(conftest_db.POSTGRES_URL_ENV, url)
    with pytest.raises(pytest.fail.Exception) as failure:
        conftest_db.open_postgres_server()
    assert "is not usable" in str(failure.value)
    assert "hunter2" not in str(failure.value)


@pytest.mark.parametrize(
    ("required", "outcome"), [(None, pytest.skip.Exception), ("1", pytest.fail.Exception)]
)
def test_missing_postgres_programs_skip_or_fail_when_services_are_required(
    monkeypatch: pytest.MonkeyPatch, required: str | None, outcome: type[BaseException]
) -> None:
    monkeypatch.setattr(pg, "find_postgres_bin_dir", lambda: None)
    monkeypatch.delenv(conftest_db.POSTGRES_URL_ENV, raising=False)
    if required is None:
        monkeypatch.delenv(conftest_db.REQUIRE_SERVICES_ENV, raising=False)
    else:
        monkeypatch.setenv(conftest_db.REQUIRE_SERVICES_ENV, required)
    with pytest.raises(outcome, match=r"PostgreSQL server programs .* not found"):
        conftest_db.open_postgres_server()


@pytest.mark.parametrize(
    ("required", "summary"), [(None, "1 passed, 1 skipped"), ("1", "1 passed, 1 error")]
)
def test_without_postgres_only_the_postgresql_half_is_skipped_or_fails(
    tmp_path: Path, required: str | None, summary: str
) -> None:
    """End to end in a pytest of its own, the lookup of the server programs patched out."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "conftest.py").write_text("import pg\n\npg.find_postgres_bin_dir = lambda: None\n")
    (tmp_path / "test_inner.py").write_text(
        textwrap.dedent(
            """
            def test_inner(database_url):
                assert database_url
            """
        )
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {conftest_db.POSTGRES_URL_ENV, conftest_db.REQUIRE_SERVICES_ENV}
        and not k.startswith("PYTEST_")
    }
    env["PYTHONPATH"] = str(TESTS)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only conftest_db: a quick start
    if required is not None:
        env[conftest_db.REQUIRE_SERVICES_ENV] = required
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conftest_db", "-p", "no:cacheprovider", "-rA"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert summary in result.stdout, result.stdout + result.stderr
    assert "PASSED test_inner.py::test_inner[sqlite]" in result.stdout
    assert "not found" in result.stdout


@pytest.mark.postgresql
def test_stop_leaves_no_process_and_no_directory() -> None:
    cluster = pg.ThrowawayPostgres(bin_dir=bin_dir_or_skip())
    url = cluster.start()
    pid = cluster.postmaster_pid()
    base = cluster.base_dir
    assert pid is not None
    assert base is not None
    assert alive(pid)
    assert make_url(url).database == "slakeeper_test"
    cluster.stop()
    cluster.stop()  # idempotent
    assert wait_for(lambda: not alive(pid))
    assert not base.exists()


@pytest.mark.postgresql
def test_a_killed_test_process_leaves_no_server_behind() -> None:
    """The watchdog stops the cluster when its owner dies without cleaning up (SIGKILL)."""
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(TESTS)!r})
        import pg
        cluster = pg.ThrowawayPostgres(bin_dir={str(bin_dir_or_skip())!r})
        cluster.start()
        print(cluster.postmaster_pid(), cluster.base_dir, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == -9, result.stderr
    pid_text, base_text = result.stdout.split()
    pid, base = int(pid_text), Path(base_text)
    assert wait_for(lambda: not alive(pid) and not base.exists()), (pid, base)
