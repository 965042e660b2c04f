"""``slakeeper serve`` and the server's commands as an operator runs them, on both stores.

Real processes (the console script of this environment), a real socket on 127.0.0.1, and the
database named by ``SLAKEEPER_DATABASE_URL``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from conftest import EXAMPLES, slakeeper_command
from pg import free_port

#: How long the server may take to answer /healthz after it was started.
STARTUP_SECONDS = 30
ADMIN_KEY_LINE = re.compile(r"^admin key \(shown once\): (slk_\S+)$", re.MULTILINE)


def environment(database_url: str) -> dict[str, str]:
    """This environment without any SLAKEEPER_* setting but the database."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("SLAKEEPER_")}
    env["SLAKEEPER_DATABASE_URL"] = database_url
    return env


def slakeeper(database_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*slakeeper_command(), *args],
        env=environment(database_url),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def create_smoke_organisation(database_url: str, cwd: Path) -> str:
    """``db upgrade`` and ``org create --slug smoke``; the admin key it prints once."""
    upgraded = slakeeper(database_url, "db", "upgrade", cwd=cwd)
    assert upgraded.returncode == 0, upgraded.stderr
    created = slakeeper(
        database_url, "org", "create", "--slug", "smoke", "--name", "Smoke", cwd=cwd
    )
    assert created.returncode == 0, created.stderr
    found = ADMIN_KEY_LINE.search(created.stdout)
    assert found, created.stdout
    return found.group(1)


class Server:
    """A running ``slakeeper serve`` and what it printed."""

    def __init__(self, process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
        self.process = process
        self.base_url = base_url
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[Server, str]]:
    """A migrated store with organisation ``smoke``, and ``slakeeper serve`` on it: the server
    (once /healthz answers) and the admin key. Stopped at the end, whatever happened."""
    admin_key = create_smoke_organisation(database_url, tmp_path)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*slakeeper_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=environment(database_url),
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    served = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_until_healthy(served)
        yield served, admin_key
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def wait_until_healthy(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if server.process.poll() is not None:
            pytest.fail(f"serve exited with {server.process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"/healthz did not answer within {STARTUP_SECONDS} s:\n{server.output()}")
        time.sleep(0.1)


def test_serve_runs_the_api_from_upload_to_audit_and_stops_on_sigterm(
    server: tuple[Server, str],
) -> None:
    running, admin_key = server
    auth = {"Authorization": f"Bearer {admin_key}"}
    with httpx.Client(base_url=running.base_url, headers=auth, timeout=30) as client:
        uploaded = client.post(
            "/api/v1/policies",
            content=(EXAMPLES / "trulayer.yaml").read_bytes(),
            headers={"Content-Type": "application/yaml"},
        )
        assert uploaded.status_code == 201, uploaded.text
        assert (uploaded.json()["version"], uploaded.json()["active"]) == (1, True)

        customer = {"id": "initech", "name": "Initech", "plan": "team", "monthly_fee": "499"}
        created = client.post("/api/v1/customers", json=customer)
        assert created.status_code == 201, created.text
        assert created.headers["etag"] == '"1"'

        audit = client.get("/api/v1/audit")
        assert audit.status_code == 200, audit.text
        assert [entry["action"] for entry in audit.json()["items"]] == [
            "organisation.created",
            "key.created",
            "policy.uploaded",
            "policy.activated",
            "customer.created",
        ]

        ready = client.get("/readyz")
        assert (ready.status_code, ready.json()) == (200, {"status": "ready"})

        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert "slakeeper_http_requests_total" in metrics.text
        assert 'route="/api/v1/customers"' in metrics.text

    running.process.terminate()
    try:
        exit_code = running.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail(f"serve did not exit within 15 s of SIGTERM:\n{running.output()}")
    # uvicorn shuts down gracefully, then re-raises the signal, as a well-behaved server does.
    assert exit_code in (0, -signal.SIGTERM), running.output()
    assert "Traceback" not in running.output()


def test_serve_on_an_unmigrated_database_says_to_run_db_upgrade(
    database_url: str, tmp_path: Path
) -> None:
    result = slakeeper(database_url, "serve", "--host", "127.0.0.1", "--port", "1", cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "slakeeper db upgrade" in lines[0]


def test_audit_verify_finds_an_edited_entry_and_a_removed_last_entry(
    database_url: str, tmp_path: Path
) -> None:
    create_smoke_organisation(database_url, tmp_path)
    made = slakeeper(
        database_url, "key", "create", "--org", "smoke", "--scope", "read", cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr

    intact = slakeeper(database_url, "audit", "verify", "--org", "smoke", cwd=tmp_path)
    assert intact.returncode == 0, intact.stderr
    assert "intact: 3 entries" in intact.stdout

    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            original = connection.execute(
                text("SELECT after FROM audit_log WHERE seq = 2")
            ).scalar_one()
            connection.execute(
                text("UPDATE audit_log SET after = :after WHERE seq = 2"),
                {"after": '{"scopes":["admin"],"name":"not what was created"}'},
            )
        edited = slakeeper(database_url, "audit", "verify", "--org", "smoke", cwd=tmp_path)
        assert edited.returncode == 1, edited.stdout
        assert "Traceback" not in edited.stderr
        assert "audit entry 2: was edited" in edited.stderr
        assert "audit entry 1:" not in edited.stderr

        # Put the edit back, and remove the last entry instead.
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE audit_log SET after = :after WHERE seq = 2"), {"after": original}
            )
            connection.execute(text("DELETE FROM audit_log WHERE seq = 3"))
        truncated = slakeeper(database_url, "audit", "verify", "--org", "smoke", cwd=tmp_path)
        assert truncated.returncode == 1, truncated.stdout
        assert "Traceback" not in truncated.stderr
        assert "audit entry 3:" in truncated.stderr  # the head names the removed entry
        assert "audit entry 2:" not in truncated.stderr  # the edit was put back
    finally:
        engine.dispose()
