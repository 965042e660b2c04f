"""Benchmark ingest through the real HTTP server, beside bare decoding of the same payloads.

Run: ``.venv/bin/python benchmarks/ingest.py [--events N] [--threads N] [--postgres URL]``.

A temporary SQLite database (and, with ``--postgres URL``, that PostgreSQL database too, which
must be empty) is migrated, gets an organisation, the trulayer example policy and an ingest
key, and one ``slakeeper serve --no-workers`` process is started on a free port. Seeded
realistic events (timestamps within the last hour spread over five minutes, 2 components,
2 regions, ~100 customers, mostly 200 with some 4xx, 5xx and 429, float latencies) are built
into request bodies (bytes, one idempotency key each) before anything is timed.

For batches of 1,000 and 10,000 events it measures events per second and the p50/p99
acknowledgement latency, from one client sending sequentially over keep-alive
(``httpx.Client``) and from ``--threads`` concurrent clients; and, in the same run, the time
``orjson.loads`` takes to decode the very same bodies, printed as a ratio (ingest / decode).
Gzip bodies are measured once (10,000 events, sequential; the decode baseline then includes
gunzip). Every answer must accept every event, and ``slakeeper integrity check`` must pass at
the end.

The aim: ingest within 4x of bare decoding and at least 200,000 events per second per process.
The profile printed last (cProfile of ``slakeeper.services.ingest.ingest`` in-process on
10,000-event bodies with a real SQLite store, plus the split between decoding, aggregating and
writing) says what stands in the way when it is not reached.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gzip
import io
import os
import platform
import pstats
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

from slakeeper.bootstrap import build
from slakeeper.config import Settings
from slakeeper.services import ingest as ingest_service
from slakeeper.services import integrity, policy_versions, tenancy
from slakeeper.services.records import Principal, Scope

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "examples" / "policies" / "trulayer.yaml"
ADMIN_KEY_LINE = re.compile(r"^admin key \(shown once\): (slk_\S+)$", re.MULTILINE)
ORG = "bench"
COMPONENTS = ("ingest-api", "dashboard")
REGIONS = ("us-east", "eu-west")
CUSTOMERS = tuple(f"customer-{n:03d}" for n in range(100))
#: Status mix: mostly 200, some client errors, some server errors, a little throttling.
STATUSES = (200, 201, 204, 400, 404, 429, 500, 502, 503)
STATUS_WEIGHTS = (88, 3, 1, 2, 2, 1, 1.5, 0.75, 0.75)
SIZES = (1_000, 10_000)
AIM_RATIO = 4.0
AIM_EVENTS_PER_SECOND = 200_000


def slakeeper_command() -> list[str]:
    script = Path(sys.executable).parent / "slakeeper"
    return [str(script)] if script.exists() else [sys.executable, "-m", "slakeeper"]


def environment(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLAKEEPER_")}
    env["SLAKEEPER_DATABASE_URL"] = database_url
    env["SLAKEEPER_RATE_LIMIT_PER_MINUTE"] = "100000000"  # measure ingest, not the limiter
    return env


def cli(database_url: str, *args: str, cwd: Path) -> str:
    done = subprocess.run(
        [*slakeeper_command(), *args],
        env=environment(database_url),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"slakeeper {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Served:
    base_url: str
    ingest_key: str
    org_id: str
    database_url: str


@contextlib.contextmanager
def serve(database_url: str, workdir: Path) -> Iterator[Served]:
    """A migrated store with organisation ``bench``, the trulayer policy and an ingest key,
    behind one ``slakeeper serve --no-workers`` process (stopped at the end)."""
    cli(database_url, "db", "upgrade", cwd=workdir)
    found = ADMIN_KEY_LINE.search(
        cli(database_url, "org", "create", "--slug", ORG, "--name", "Bench", cwd=workdir)
    )
    if found is None:
        raise SystemExit("org create printed no admin key")
    port = free_port()
    command = [*slakeeper_command(), "serve", "--no-workers", "--host", "127.0.0.1"]
    base_url = f"http://127.0.0.1:{port}"
    log = workdir / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            env=environment(database_url),
            cwd=workdir,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"serve exited:\n{log.read_text(errors='replace')}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit(f"serve did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.05)
        admin = {"Authorization": f"Bearer {found.group(1)}"}
        with httpx.Client(base_url=base_url, headers=admin, timeout=60) as http:
            uploaded = http.post(
                "/api/v1/policies",
                content=POLICY.read_bytes(),
                headers={"Content-Type": "application/yaml"},
            )
            uploaded.raise_for_status()
            made = http.post("/api/v1/keys", json={"name": "bench", "scopes": ["ingest"]})
            made.raise_for_status()
            org_id = http.get("/api/v1/organisation").json()["id"]
        yield Served(base_url, made.json()["key"], org_id, database_url)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# --------------------------------------------------------------------------- payloads
class Payloads:
    """Seeded realistic events, made into request bodies before any timing."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        self.start = now - timedelta(minutes=30)  # within the last hour, over five minutes
        self.count = 0

    def events(self, size: int) -> list[dict[str, Any]]:
        rng = self.rng
        statuses = rng.choices(STATUSES, STATUS_WEIGHTS, k=size)
        events = []
        for status in statuses:
            ts = self.start + timedelta(milliseconds=rng.randrange(300_000))
            event: dict[str, Any] = {
                "ts": ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "component": rng.choice(COMPONENTS),
                "region": rng.choice(REGIONS),
                "customer": rng.choice(CUSTOMERS),
                "status": status,
                "latency_ms": round(rng.lognormvariate(3.5, 0.8), 3),
            }
            events.append(event)
        return events

    def bodies(self, size: int, batches: int) -> list[tuple[str, bytes]]:
        made = []
        for _ in range(batches):
            self.count += 1
            key = f"bench-{self.count:06d}-{self.rng.getrandbits(32):08x}"
            made.append((key, orjson.dumps({"events": self.events(size)})))
        return made


# --------------------------------------------------------------------------- measuring
@dataclass
class Run:
    label: str
    size: int
    threads: int
    events: int
    seconds: float
    latencies: list[float]
    decode_seconds: float
    megabytes: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    @property
    def ratio(self) -> float:
        return self.seconds / self.decode_seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def decode_time(bodies: list[tuple[str, bytes]], gzipped: bool, repeat: int = 3) -> float:
    """The best of ``repeat`` passes of bare decoding over the same bodies (one thread)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for _key, body in bodies:
            orjson.loads(gzip.decompress(body) if gzipped else body)
        best = min(best, time.perf_counter() - started)
    return best


def send_all(
    served: Served,
    bodies: list[tuple[str, bytes]],
    size: int,
    threads: int,
    gzipped: bool = False,
) -> tuple[float, list[float]]:
    """Wall time to get every batch acknowledged, and each acknowledgement's latency."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {served.ingest_key}"}
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    shares = [bodies[n::threads] for n in range(threads)]
    barrier = threading.Barrier(threads + 1)

    def client(share: list[tuple[str, bytes]]) -> None:
        mine = []
        with httpx.Client(base_url=served.base_url, headers=headers, timeout=300) as http:
            http.get("/healthz")  # open the keep-alive connection before timing
            barrier.wait()
            for key, body in share:
                started = time.perf_counter()
                answer = http.post("/api/v1/ingest", content=body, headers={"Idempotency-Key": key})
                mine.append(time.perf_counter() - started)
                if answer.status_code != 200 or answer.json()["accepted"] != size:
                    errors.append(f"{key}: {answer.status_code} {answer.text[:300]}")
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=client, args=(share,)) for share in shares]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit("ingest failed:\n" + "\n".join(errors[:5]))
    return elapsed, latencies


def measure(
    served: Served,
    payloads: Payloads,
    size: int,
    events: int,
    threads: int,
    gzipped: bool = False,
) -> Run:
    batches = max(threads * 2, events // size)
    bodies = payloads.bodies(size, batches)
    if gzipped:
        bodies = [(key, gzip.compress(body, compresslevel=6)) for key, body in bodies]
    decode_seconds = decode_time(bodies, gzipped)
    seconds, latencies = send_all(served, bodies, size, threads, gzipped)
    label = f"{size:,} x{batches}, {threads} client{'s' if threads > 1 else ''}"
    megabytes = sum(len(body) for _, body in bodies) / 1e6
    if gzipped:
        label += ", gzip"
    return Run(label, size, threads, size * batches, seconds, latencies, decode_seconds, megabytes)


def table(runs: list[Run]) -> None:
    head = (
        f"{'run':<28}{'events/s':>11}{'MB/s':>8}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'decode ev/s':>13}{'ingest/decode':>15}"
    )
    print(head)
    print("-" * len(head))
    for run in runs:
        print(
            f"{run.label:<28}{run.rate:>11,.0f}{run.megabytes / run.seconds:>8.1f}"
            f"{run.percentile(0.5) * 1000:>9.1f}{run.percentile(0.99) * 1000:>9.1f}"
            f"{run.events / run.decode_seconds:>13,.0f}{run.ratio:>14.1f}x"
        )


def benchmark_store(name: str, database_url: str, args: argparse.Namespace) -> list[Run]:
    with tempfile.TemporaryDirectory(prefix="slakeeper-bench-") as workdir:
        with serve(database_url, Path(workdir)) as served:
            payloads = Payloads(args.seed)
            send_all(served, payloads.bodies(1_000, 3), 1_000, 1)  # warm up
            runs = []
            for size in SIZES:
                runs.append(measure(served, payloads, size, args.events, 1))
                runs.append(measure(served, payloads, size, args.events, args.threads))
            runs.append(measure(served, payloads, 10_000, args.events, 1, gzipped=True))
            fixed = measure(served, payloads, 1, 50, 1)  # what a batch costs whatever its size
            container = build(Settings(database_url=database_url))
            try:
                with container.uow() as uow:
                    report = integrity.check(uow, served.org_id)
            finally:
                container.close()
        if not report.ok:
            raise SystemExit(f"integrity check failed: {report.as_json()}")
        print(f"\n== {name}: {report.batches} batches stored, integrity check reconciles exactly")
        table(runs)
        print(
            f"fixed cost of a batch (1-event batches x50, 1 client): "
            f"p50 {fixed.percentile(0.5) * 1000:.1f} ms, p99 {fixed.percentile(0.99) * 1000:.1f} ms"
        )
        return runs


# --------------------------------------------------------------------------- profile
def profile(args: argparse.Namespace) -> None:
    """cProfile of the service function in-process (no HTTP) with a real SQLite store, on
    10,000-event bodies (the per-event work) and on 1,000-event bodies (the per-batch work),
    and the split of one 10,000-event batch between decoding, aggregating and writing."""
    workdir = Path(tempfile.mkdtemp(prefix="slakeeper-profile-"))
    try:
        container = build(Settings(database_url=f"sqlite:///{workdir}/profile.db"))
        try:
            container.upgrade()
            principal = _profile_org(container)
            payloads = Payloads(args.seed + 1)
            now = datetime.now(UTC)

            def call(key: str, body: bytes) -> None:
                answer = ingest_service.ingest(
                    container.uow, principal, key=key, body=body,
                    content_type="application/json", content_encoding=None, now=now,
                )  # fmt: skip
                assert not answer["rejected"], answer["rejected"][:3]

            call(*payloads.bodies(10_000, 1)[0])  # warm up (policy parse, statements)
            split = _split(container, principal, payloads.bodies(10_000, 1)[0], now)
            profiles = []
            for size, batches in ((10_000, 4), (1_000, 20)):
                bodies = payloads.bodies(size, batches)
                profiler = cProfile.Profile()
                started = time.perf_counter()
                profiler.enable()
                for key, body in bodies:
                    call(key, body)
                profiler.disable()
                profiles.append((size, batches, time.perf_counter() - started, profiler))
        finally:
            container.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    total = sum(split.values())
    print(
        "\n== in-process ingest.ingest on SQLite, one 10,000-event batch, unprofiled: "
        + ", ".join(f"{k} {v * 1000:.1f} ms ({v / total:.0%})" for k, v in split.items())
        + f"; {10_000 / total:,.0f} events/s"
    )
    for size, batches, elapsed, profiler in profiles:
        print(
            f"\n== profile: ingest.ingest in-process, SQLite, {batches} x {size:,} events: "
            f"{elapsed:.2f} s under cProfile ({size * batches / elapsed:,.0f} events/s)"
        )
        orders = (("cumulative", "cumulative"), ("tottime", "own time"))
        for order, title in orders if size == 10_000 else orders[1:]:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(15)
            lines = out.getvalue().splitlines()
            first = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
            print(f"-- top 15 by {title}")
            print("\n".join(line for line in lines[first : first + 16] if line.strip()))


def _profile_org(container: Any) -> Principal:
    """Organisation ``bench`` with the trulayer policy active; an ingest principal of it."""
    now = datetime.now(UTC)
    with container.uow() as uow:
        org, _issued = tenancy.create_organisation(
            uow, slug=ORG, name="Bench", actor="bench", now=now
        )
        uow.commit()
    operator = tenancy.cli_principal(org)
    with container.uow() as uow:
        policy_versions.upload(uow, operator, POLICY.read_text(), now=now, activate=True)
        uow.commit()
    return Principal(org.id, "bench", frozenset({Scope.INGEST}))


def _split(
    container: Any, principal: Principal, batch: tuple[str, bytes], now: datetime
) -> dict[str, float]:
    """Decode, check+aggregate and store of one batch, timed apart with the service's parts."""
    key, body = batch
    timings: dict[str, float] = {}
    started = time.perf_counter()
    document = orjson.loads(body)
    timings["orjson.loads"] = time.perf_counter() - started
    del document
    with container.uow() as uow:
        allowed = ingest_service.target(policy_versions.active_policy(uow, principal.org_id))
    started = time.perf_counter()
    aggregator = ingest_service.Aggregator(allowed, now, key)
    for kind, index, item in ingest_service.items(body, "application/json", ingest_service.KINDS):
        aggregator.add(kind, index, item)
    timings["check+aggregate"] = time.perf_counter() - started - timings["orjson.loads"]
    started = time.perf_counter()
    answer = ingest_service.ingest(
        container.uow, principal, key=key, body=body,
        content_type="application/json", content_encoding=None, now=now,
    )  # fmt: skip
    whole = time.perf_counter() - started
    assert answer["accepted"] == 10_000, answer
    rest = whole - timings["orjson.loads"] - timings["check+aggregate"]
    timings["store (ledger lookup, merge, commit)"] = max(0.0, rest)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000, help="events per run")
    parser.add_argument("--threads", type=int, default=4, help="concurrent clients")
    parser.add_argument("--postgres", metavar="URL", help="also run on this (empty) database")
    parser.add_argument("--seed", type=int, default=20261001)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs "
        f"({platform.processor() or platform.machine()}), Python {platform.python_version()} "
        f"({platform.python_implementation()}), orjson {orjson.__version__}, "
        f"load average {os.getloadavg()[0]:.2f} at the start"
    )
    print(
        f"one `slakeeper serve --no-workers` process; {args.events:,} events per run; "
        f"aim: >= {AIM_EVENTS_PER_SECOND:,} events/s and <= {AIM_RATIO:.0f}x bare decoding"
    )
    runs: dict[str, list[Run]] = {}
    with tempfile.TemporaryDirectory(prefix="slakeeper-bench-db-") as directory:
        runs["sqlite"] = benchmark_store("SQLite", f"sqlite:///{directory}/bench.db", args)
    if args.postgres:
        runs["postgresql"] = benchmark_store("PostgreSQL", args.postgres, args)

    print()
    for name, measured in runs.items():
        best = max(measured, key=lambda run: run.rate)
        closest = min(measured, key=lambda run: run.ratio)
        verdict = (
            "reached"
            if best.rate >= AIM_EVENTS_PER_SECOND and closest.ratio <= AIM_RATIO
            else "NOT reached"
        )
        print(
            f"{name}: best {best.rate:,.0f} events/s ({best.label}); closest to bare decoding "
            f"{closest.ratio:.1f}x ({closest.label}): aim {verdict}"
        )
    if not args.no_profile:
        profile(args)


if __name__ == "__main__":
    main()
