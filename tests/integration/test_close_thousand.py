"""Closing a generated month for 1,000 customers, on both stores: every customer's figures and
credit equal an independent recomputation from the facts through ``slakeeper evaluate``.

The month (``services.demo_month.population``) is played into the store through the services
(customers, ingest batches, incidents with timelines and exclusions, maintenance, support
requests), and its facts file is written by the generator from what it made happen, never read
back from the store. The real ``slakeeper evaluate`` command runs once per facts file: one for
everybody, plus one per set of incidents that name customers (the facts format has no
per-customer downtime; such an incident counts only for the customers it names).

Healthy traffic is reported once an hour per component and region: a close's cost grows with
the gaps without data times the customers (``benchmarks/close.py`` measures the demo's density).
"""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from conftest import EXAMPLES, slakeeper_command
from slakeeper.bootstrap import build
from slakeeper.config import Settings
from slakeeper.services import close, demo_load
from slakeeper.services.demo_month import population
from slakeeper.services.demo_script import MonthScript, facts_files, facts_text

PERIOD = "2026-10"
CLOSED_AT = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
FIGURES = ("measured_seconds", "downtime_seconds", "excluded_seconds", "counted_downtime_seconds")


def evaluate_files(script: MonthScript, policy: Path, tmp_path: Path) -> dict[str, Any]:
    """Each customer's result from ``slakeeper evaluate`` on the generated facts files (run
    side by side, two at a time)."""
    commands = []
    for found in facts_files(script):
        path = tmp_path / f"facts-{found.name}.json"
        path.write_text(facts_text(found.document), encoding="utf-8")
        commands.append([*slakeeper_command(), "evaluate", "--policy", str(policy), "--facts",
                         str(path), "--period", PERIOD, "--format", "json"])  # fmt: skip
    results: dict[str, Any] = {}
    for first in range(0, len(commands), 2):
        running = [
            subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for command in commands[first : first + 2]
        ]
        for process in running:
            out, err = process.communicate(timeout=300)
            assert process.returncode == 0, err
            results.update({c["id"]: c for c in json.loads(out)["customers"]})
    return results


def close_and_compare(
    database_url: str, script: MonthScript, policy: Path, tmp_path: Path
) -> dict[str, Any]:
    """Load ``script``, close its month, and check every customer against evaluate; returns
    what was compared (and how long each step took) for the caller's own checks."""
    assert script.last_instant < CLOSED_AT  # everything happened before the close
    timings: dict[str, float] = {}
    container = build(Settings(database_url=database_url))
    try:
        container.upgrade()
        started = time.perf_counter()
        loaded = demo_load.load(container.uow, script)
        timings["load"] = time.perf_counter() - started
        started = time.perf_counter()
        with container.uow() as uow:
            result = close.close_period(uow, loaded.org, PERIOD, CLOSED_AT, actor="proof")
            uow.commit()
        timings["close"] = time.perf_counter() - started
        with container.uow() as uow:
            reports = {
                customer.id: json.loads(stored.document)
                for customer in script.customers
                if (stored := uow.closes.report(loaded.org.id, PERIOD, customer.id)) is not None
            }
            credits = {c.customer_id: c for c in uow.closes.credits(loaded.org.id, PERIOD)}
    finally:
        container.close()
    started = time.perf_counter()
    expected = evaluate_files(script, policy, tmp_path)
    timings["evaluate"] = time.perf_counter() - started
    assert result.close.customers == len(script.customers) == len(reports) == len(expected)
    for customer_id, wanted in expected.items():
        report = reports[customer_id]
        uptime = report["uptime"]
        assert uptime["percent_exact"] == wanted["uptime_percent"], customer_id
        for figure in FIGURES:
            assert uptime[figure] == wanted[figure], (customer_id, figure)
        assert report["credit"]["amount"] == wanted["credit"]["amount"], customer_id
        assert report["exclusions"] == wanted["exclusions"], customer_id
        recorded = credits.get(customer_id)
        amount = Decimal(0) if recorded is None else recorded.amount
        assert amount == Decimal(wanted["credit"]["amount"]), customer_id
    return {"expected": expected, "credits": credits, "timings": timings}


def test_closing_a_month_for_1000_customers_equals_evaluate_for_every_customer(
    database_url: str, tmp_path: Path
) -> None:
    policy = EXAMPLES / "trulayer.yaml"
    script = population(
        policy.read_text("utf-8"), PERIOD, customers=1000, seed=7, healthy_every_minutes=60
    )
    compared = close_and_compare(database_url, script, policy, tmp_path)
    expected, credits = compared["expected"], compared["credits"]
    steps = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in compared["timings"].items())
    print(f"\n{database_url.split(':')[0]}, 1,000 customers: {steps}")

    # The month exercised what it should: credits and none, exclusions, customers whose
    # contract covers part of the month, and incidents that count only for the customers named.
    assert 100 < len(credits) < 1000
    assert sum(1 for e in expected.values() if e["excluded_seconds"] != "0") > 500
    caused = [x for e in expected.values() for x in e["exclusions"]
              if x["category"] == "customer-caused"]  # fmt: skip
    assert caused
    full = max(int(e["measured_seconds"]) for e in expected.values())
    assert sum(1 for e in expected.values() if int(e["measured_seconds"]) < full) > 50
    named = {c for i in script.incidents for c in i.customers}
    assert named
    for customer_id in named:
        mine = expected[customer_id]
        alike = [e for e in expected.values() if e["id"] not in named and e["plan"] == mine["plan"]
                 and e["measured_seconds"] == mine["measured_seconds"]]  # fmt: skip
        if alike:
            assert int(expected[customer_id]["downtime_seconds"]) > int(
                alike[0]["downtime_seconds"]
            ), customer_id


def test_closing_a_generic_saas_month_with_annual_fees_and_tiers_equals_evaluate(
    sqlite_url: str, tmp_path: Path
) -> None:
    """The other kind of credit: tiers of an annual fee's twelfth, capped, in New York time."""
    policy = EXAMPLES / "generic-saas.yaml"
    script = population(
        policy.read_text("utf-8"), PERIOD, customers=300, seed=3, healthy_every_minutes=60
    )
    compared = close_and_compare(sqlite_url, script, policy, tmp_path)
    amounts = {c.amount for c in compared["credits"].values()}
    assert len(amounts) > 3  # tiers of different fees
    assert all(c.currency == "USD" for c in compared["credits"].values())
