"""Ingest survives SIGKILL: nothing acknowledged is lost, nothing is counted twice.

A client thread sends batches of events to a real ``slakeeper serve --no-workers`` and retries
each batch under the same Idempotency-Key, on any connection error, 5xx or 429, until it gets a
200. Meanwhile the test kills the server with SIGKILL twenty times at seeded random moments
(most of them land while a request is being handled: before, during or after its commit) and
starts it again each time. At the end the stored aggregates must equal, per status and exactly,
the sum of the batches the client got a 200 for; the ledger must hold exactly those batches;
and ``slakeeper integrity check`` must exit 0. On SQLite and PostgreSQL (``database_url``).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import subprocess
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from conftest import EXAMPLES, slakeeper_command
from pg import free_port
from slakeeper.bootstrap import build
from slakeeper.config import Settings

SEED = 20_260_417
KILLS = 20
EVENTS_PER_BATCH = 200
#: How long after /healthz answered the server is killed (seconds, uniform).
KILL_DELAY = (0.05, 0.6)
#: The test fails rather than hangs past this (no pytest-timeout in this project).
DEADLINE_SECONDS = 240
STARTUP_SECONDS = 30
ORG = "crash"
ADMIN_KEY_LINE = re.compile(r"^admin key \(shown once\): (slk_\S+)$", re.MULTILINE)
COMPONENTS = ("ingest-api", "dashboard")
REGIONS = ("us-east", "eu-west")
STATUSES = (200, 200, 200, 200, 200, 500, 503, 404, 429)
CUSTOMERS = (None, "acme", "globex", "initech", "umbrella")
_ALL_TIME = (datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))


def environment(database_url: str) -> dict[str, str]:
    """This environment without SLAKEEPER_* settings, but the database and a rate limit the
    retrying client cannot reach."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("SLAKEEPER_")}
    env["SLAKEEPER_DATABASE_URL"] = database_url
    env["SLAKEEPER_RATE_LIMIT_PER_MINUTE"] = "1000000"
    return env


def cli(database_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*slakeeper_command(), *args],
        env=environment(database_url),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class Server:
    """``slakeeper serve --no-workers`` on one port, started again after every kill."""

    def __init__(self, database_url: str, cwd: Path) -> None:
        self.database_url = database_url
        self.cwd = cwd
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = cwd / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.probe = httpx.Client(base_url=self.base_url, timeout=2)  # one, for a cheap poll

    def start(self) -> None:
        assert self.process is None
        self.starts += 1
        with self.log.open("ab") as sink:
            sink.write(f"--- start {self.starts}\n".encode())
            sink.flush()
            self.process = subprocess.Popen(
                [*slakeeper_command(), "serve", "--no-workers", *self.address()],
                env=environment(self.database_url),
                cwd=self.cwd,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as a whole
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"serve exited with {self.process.returncode}:\n{self.output()}")
            with contextlib.suppress(httpx.TransportError):
                if self.probe.get("/healthz").status_code == 200:
                    return
            if time.monotonic() > deadline:
                pytest.fail(f"/healthz did not answer within {STARTUP_SECONDS} s:\n{self.output()}")
            time.sleep(0.02)

    def address(self) -> list[str]:
        return ["--host", "127.0.0.1", "--port", str(self.port)]

    def kill(self) -> None:
        """SIGKILL the server's process group, as the OOM killer or a power cut would."""
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def close(self) -> None:
        self.kill()
        self.probe.close()


@dataclass
class Batch:
    key: str
    body: bytes
    statuses: Counter[int]
    customer_errors: int


@dataclass
class Client:
    """Sends batches until told to stop; each one retried under its key until a 200."""

    base_url: str
    token: str
    rng: random.Random
    deadline: float
    stop: threading.Event = field(default_factory=threading.Event)  # after this batch
    abort: threading.Event = field(default_factory=threading.Event)  # now: the test failed
    in_flight: bool = False
    acknowledged: dict[str, Batch] = field(default_factory=dict)
    refused: int = 0  # no server listening (it is down or starting)
    broken: int = 0  # the connection died once open: killed handling the request (or dying)
    retried_5xx: int = 0
    replayed: int = 0  # a retry found its batch already committed (killed after the commit)
    failure: BaseException | None = None

    def run(self) -> None:
        try:
            with httpx.Client(
                base_url=self.base_url,
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=httpx.Timeout(30, connect=2),
            ) as http:
                number = 0
                while not self.stop.is_set():
                    batch = self.make_batch(number)
                    if not self.send(http, batch):
                        return
                    self.acknowledged[batch.key] = batch
                    number += 1
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.failure = exc

    def check(self, server: Server) -> None:
        """Raise what the client thread failed with, with the server's output."""
        if self.failure is not None:
            trace = "".join(traceback.format_exception(self.failure))
            raise AssertionError(f"the client failed:\n{trace}\n{server.output()}")

    def make_batch(self, number: int) -> Batch:
        rng = self.rng
        now = datetime.now(UTC)
        events: list[dict[str, Any]] = []
        statuses: Counter[int] = Counter()
        customer_errors = 0
        for _ in range(EVENTS_PER_BATCH):
            ts = now - timedelta(seconds=rng.uniform(0, 600))
            status = rng.choice(STATUSES)
            event: dict[str, Any] = {
                "ts": ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "component": rng.choice(COMPONENTS),
                "region": rng.choice(REGIONS),
                "status": status,
                "latency_ms": round(rng.lognormvariate(3, 1), 3),
            }
            customer = rng.choice(CUSTOMERS)
            if customer is not None:
                event["customer"] = customer
                customer_errors += status >= 500
            events.append(event)
            statuses[status] += 1
        key = f"crash-{number:05d}-{rng.getrandbits(32):08x}"
        return Batch(key, orjson.dumps({"events": events}), statuses, customer_errors)

    def send(self, http: httpx.Client, batch: Batch) -> bool:
        """Whether the batch was acknowledged (False: aborted before it was)."""
        headers = {"Content-Type": "application/json", "Idempotency-Key": batch.key}
        failed_before = False
        while True:
            if time.monotonic() > self.deadline:
                raise TimeoutError(f"batch {batch.key} not acknowledged before the deadline")
            if self.abort.is_set():
                return False
            try:
                self.in_flight = True
                try:
                    response = http.post("/api/v1/ingest", content=batch.body, headers=headers)
                finally:
                    self.in_flight = False
            except httpx.ConnectError:  # down or starting: wait a little, not to slow its start
                self.refused += 1
                failed_before = True
                time.sleep(0.05)
                continue
            except httpx.TransportError:
                self.broken += 1
                failed_before = True
                continue
            if response.status_code >= 500 or response.status_code == 429:
                self.retried_5xx += 1
                failed_before = True
                time.sleep(0.01)
                continue
            assert response.status_code == 200, f"{batch.key}: {response.text}"
            answer = response.json()
            assert answer["batch"] == batch.key
            assert (answer["accepted"], answer["rejected"]) == (EVENTS_PER_BATCH, []), answer
            if answer["replayed"]:
                # Only a batch whose earlier attempt failed can have been committed before.
                assert failed_before, f"{batch.key} replayed on its first attempt: {answer}"
                self.replayed += 1
            return True


def test_sigkill_twenty_times_loses_nothing_acknowledged_and_counts_nothing_twice(
    database_url: str, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    upgraded = cli(database_url, "db", "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    created = cli(database_url, "org", "create", "--slug", ORG, "--name", "Crash", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    found = ADMIN_KEY_LINE.search(created.stdout)
    assert found, created.stdout
    admin = {"Authorization": f"Bearer {found.group(1)}"}

    server = Server(database_url, tmp_path)
    client: Client | None = None
    thread: threading.Thread | None = None
    kills_in_flight = 0
    try:
        server.start()
        with httpx.Client(base_url=server.base_url, headers=admin, timeout=30) as http:
            uploaded = http.post(
                "/api/v1/policies",
                content=(EXAMPLES / "trulayer.yaml").read_bytes(),
                headers={"Content-Type": "application/yaml"},
            )
            assert uploaded.status_code == 201, uploaded.text
            made = http.post("/api/v1/keys", json={"name": "crash", "scopes": ["ingest"]})
            assert made.status_code == 201, made.text
            organisation = http.get("/api/v1/organisation")
            assert organisation.status_code == 200, organisation.text
        org_id = organisation.json()["id"]

        client = Client(
            server.base_url,
            made.json()["key"],
            random.Random(rng.getrandbits(64)),
            time.monotonic() + DEADLINE_SECONDS,
        )
        thread = threading.Thread(target=client.run, name="crash-client", daemon=True)
        thread.start()
        for _ in range(KILLS):
            time.sleep(rng.uniform(*KILL_DELAY))
            client.check(server)
            kills_in_flight += client.in_flight
            server.kill()
            server.start()
        # The last server finishes whatever batch was being retried, and one more at least.
        acknowledged_before = len(client.acknowledged)
        deadline = time.monotonic() + 30
        while len(client.acknowledged) < acknowledged_before + 2 and client.failure is None:
            assert time.monotonic() < deadline, "no batch acknowledged after the last restart"
            time.sleep(0.01)
        client.stop.set()
        thread.join(timeout=60)
        assert not thread.is_alive(), "the client did not stop"
        client.check(server)
    finally:
        if client is not None:
            client.stop.set()
            client.abort.set()
        server.close()
        if thread is not None:
            thread.join(timeout=60)

    acknowledged = client.acknowledged
    summary = (
        f"seed {SEED}: {len(acknowledged)} batches acknowledged, {KILLS} kills "
        f"({kills_in_flight} with a request in flight), {client.broken} requests cut, "
        f"{client.refused} refused connections, {client.retried_5xx} 5xx/429, "
        f"{client.replayed} replayed"
    )
    # The test has teeth only if kills hit requests being handled.
    assert client.broken > 0, summary
    assert kills_in_flight >= KILLS // 4, summary

    expected: Counter[int] = Counter()
    for batch in acknowledged.values():
        expected += batch.statuses
    container = build(Settings(database_url=database_url))
    try:
        with container.uow() as uow:
            buckets = uow.measurements.requests(org_id, *_ALL_TIME)
            ledger = uow.measurements.batches(org_id)
            customer_errors = uow.measurements.customer_errors(org_id, *_ALL_TIME)
    finally:
        container.close()
    stored: Counter[int] = Counter()
    for bucket in buckets:
        stored.update(bucket.statuses)

    assert dict(stored) == dict(expected), summary
    assert sum(bucket.latency.count for bucket in buckets) == sum(expected.values()), summary
    assert sum(row.errors for row in customer_errors) == sum(
        batch.customer_errors for batch in acknowledged.values()
    ), summary
    assert len(ledger) == len(acknowledged), summary
    assert {batch.key for batch in ledger} == set(acknowledged), summary
    for batch in ledger:
        assert batch.counts["requests"] == EVENTS_PER_BATCH, (batch.key, batch.counts)

    checked = cli(
        database_url, "integrity", "check", "--org", ORG, "--format", "json", cwd=tmp_path
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report = json.loads(checked.stdout)
    assert report["ok"] is True
    assert report["batches"] == len(acknowledged), report
    print(summary)
