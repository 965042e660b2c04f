"""``slakeeper agent`` against a real ``slakeeper serve`` and real HTTP targets."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from test_serve_smoke import Server, environment, server, slakeeper

from conftest import EXAMPLES, slakeeper_command

__all__ = ["server"]  # the fixture, shared with the smoke test


class _Target(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/up" else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def target() -> Iterator[str]:
    """An HTTP service on 127.0.0.1: ``/up`` answers 200, anything else 503."""
    http = ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_address[1]}"
    finally:
        http.shutdown()
        http.server_close()


def test_the_agent_probes_and_pushes_results_the_server_counts(
    server: tuple[Server, str], target: str, database_url: str, tmp_path: Path
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
        key = client.post("/api/v1/keys", json={"name": "agent", "scopes": ["probe"]})
        assert key.status_code == 201, key.text
    env = {**environment(database_url), "SLAKEEPER_PROBE_KEY": key.json()["key"]}
    agent = subprocess.run(
        [*slakeeper_command(), "agent", "--server", running.base_url, "--region", "eu-west",
         "--check", f"ingest-api={target}/up", "--check", f"dashboard={target}/down",
         "--check", "auth=http://127.0.0.1:9/closed", "--rounds", "2", "--interval", "0.1"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert agent.returncode == 0, agent.stderr
    assert "round 2: 3 probes, 2 batches sent, 0 waiting" in agent.stdout
    checked = slakeeper(database_url, "integrity", "check", "--org", "smoke", "--format", "json",
                        cwd=tmp_path)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    lines = {line["name"]: line for line in json.loads(checked.stdout)["lines"]}
    assert (lines["probes"]["stored"], lines["probe_failures"]["stored"]) == (6, 4)


def test_the_agent_refuses_to_start_without_a_key(tmp_path: Path) -> None:
    ran = subprocess.run(
        [*slakeeper_command(), "agent", "--server", "http://127.0.0.1:9", "--region", "r",
         "--check", "api=http://127.0.0.1:9/"],
        env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=60, check=False,
        cwd=tmp_path,
    )  # fmt: skip
    assert ran.returncode == 2  # a usage error, as for every command
    assert ran.stderr.strip().startswith("error: set SLAKEEPER_PROBE_KEY")
    assert "Traceback" not in ran.stderr
