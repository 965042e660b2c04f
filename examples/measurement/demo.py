"""The measurement demo: a service with the SDK middleware under load, with an outage injected.

    .venv/bin/python examples/measurement/demo.py [--seconds 180] [--outage-at 60]
                                                  [--outage-seconds 60] [--rate 40]

It starts ``slakeeper serve`` on a fresh SQLite file (workers on, a pass every 2 s), uploads the
opsmantik example policy, creates customer ``northwind`` on the enterprise plan and an ingest
key; starts the demo service (``app.py``) with a ``Reporter`` pointed at the server; drives it
with a load generator for ``--seconds``, turning on an outage (every request 503) for
``--outage-seconds`` from ``--outage-at``; then shows, from the API, the SLO burn, the alert
that fired, and the customer's uptime for the period, and runs ``slakeeper integrity check``.
Exit 0 when an alert fired, the customer saw downtime, and the integrity check reconciled.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from app import create_app

from slakeeper.sdk import Reporter

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "examples" / "policies" / "opsmantik.yaml"
SLAKEEPER = [sys.executable, "-m", "slakeeper"]
ADMIN_KEY = re.compile(r"admin key \(shown once\): (slk_\S+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*SLAKEEPER, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"slakeeper {' '.join(args)} failed: {done.stderr or done.stdout}")
    return done.stdout


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    sys.exit(f"{url} did not come up")


def load(base: str, seconds: float, rate: float, outage: tuple[float, float]) -> dict[str, int]:
    """Requests at ``rate`` a second for ``seconds``; the outage switched on and off on time."""
    sent: dict[str, int] = {}
    start = time.monotonic()
    switched = False
    customers = ["northwind", "northwind", "globex"]
    with httpx.Client(base_url=base, timeout=5) as client:
        n = 0
        while (elapsed := time.monotonic() - start) < seconds:
            inside = outage[0] <= elapsed < outage[0] + outage[1]
            if inside != switched:
                client.post("/chaos", json={"outage": inside})
                switched = inside
                print(f"  t={elapsed:5.1f}s outage {'ON' if inside else 'off'}", flush=True)
            answer = client.get("/api/sync", headers={"X-Customer": customers[n % 3]})
            sent[str(answer.status_code)] = sent.get(str(answer.status_code), 0) + 1
            n += 1
            time.sleep(max(0.0, start + n / rate - time.monotonic()))
    return sent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--outage-at", type=float, default=60)
    parser.add_argument("--outage-seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=40, help="requests a second")
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="slakeeper-demo-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLAKEEPER_")}
    env["SLAKEEPER_DATABASE_URL"] = f"sqlite:///{workdir / 'demo.db'}"
    run(env, "db", "upgrade")
    admin = ADMIN_KEY.search(run(env, "org", "create", "--slug", "demo", "--name", "Demo"))
    assert admin is not None
    port = free_port()
    server = subprocess.Popen(
        [*SLAKEEPER, "serve", "--port", str(port), "--worker-interval", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/healthz")
        api = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {admin.group(1)}"}, timeout=30
        )
        api.post("/api/v1/policies", content=POLICY.read_bytes(),
                 headers={"Content-Type": "application/yaml"}).raise_for_status()  # fmt: skip
        for customer in ("northwind", "globex"):
            api.post("/api/v1/customers", json={
                "id": customer, "name": customer.title(), "plan": "enterprise",
                "monthly_fee": "4000.00"}).raise_for_status()  # fmt: skip
        ingest_key = api.post(
            "/api/v1/keys", json={"name": "demo service", "scopes": ["ingest"]}
        ).json()["key"]

        reporter = Reporter(base, ingest_key, component="api-sync", region="global",
                            flush_interval=1.0)  # fmt: skip
        app_port = free_port()
        config = uvicorn.Config(
            create_app(reporter), host="127.0.0.1", port=app_port, log_level="warning"
        )
        service = uvicorn.Server(config)
        threading.Thread(target=service.run, daemon=True).start()
        wait_for(f"http://127.0.0.1:{app_port}/docs")

        print(f"slakeeper: {base}  (admin key {admin.group(1)})")
        print(f"load: {options.rate:g} requests/s for {options.seconds:g} s, outage from "
              f"{options.outage_at:g} s for {options.outage_seconds:g} s")  # fmt: skip
        sent = load(f"http://127.0.0.1:{app_port}", options.seconds, options.rate,
                    (options.outage_at, options.outage_seconds))  # fmt: skip
        print(f"answers the service gave: {json.dumps(sent, sort_keys=True)}")
        delivered = reporter.flush(timeout=30)
        print(f"SDK: {json.dumps(reporter.stats, sort_keys=True)} (all delivered: {delivered})")
        service.should_exit = True
        time.sleep(5)  # two worker passes: the alerts are evaluated

        slo = api.get("/api/v1/slos/api-availability").json()
        print(f"\nSLO {slo['name']}: SLI {slo['sli_percent']} % of {slo['total']} requests, "
              f"budget remaining {slo['budget']['remaining_percent']} %")  # fmt: skip
        for alert in slo["alerts"]:
            print(f"  alert {alert['name']} ({alert['burn_rate']}x over {alert['long_window']} "
                  f"and {alert['short_window']}): burn {alert['long_rate']} / "
                  f"{alert['short_rate']} -> {alert['state']}")  # fmt: skip
        fired = [a for a in api.get("/api/v1/alerts").json() if a["last_fired"]]
        period = time.strftime("%Y-%m", time.gmtime())
        sla = api.get("/api/v1/customers/northwind/sla", params={"period": period}).json()
        (customer,) = sla["customers"]
        print(f"\ncustomer northwind, {period}: uptime {customer['uptime_percent']} % "
              f"(target {customer['target_percent']} %), downtime "
              f"{customer['downtime_seconds']} s, credit {customer['credit']['amount']} "
              f"{customer['credit']['currency']}")  # fmt: skip
        checked = subprocess.run([*SLAKEEPER, "integrity", "check", "--org", "demo"], env=env,
                                 capture_output=True, text=True, check=False)  # fmt: skip
        print("\n" + checked.stdout.strip())
        ok = bool(fired) and customer["downtime_seconds"] != "0" and checked.returncode == 0
        print(
            f"\n{'OK' if ok else 'FAILED'}: alert fired: {bool(fired)}, downtime seen: "
            f"{customer['downtime_seconds'] != '0'}, integrity: {checked.returncode == 0}"
        )
        return 0 if ok else 1
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
