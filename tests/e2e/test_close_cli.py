"""``slakeeper close``, ``report``, ``ledger export`` and ``ledger verify`` as an operator runs
them, on both stores: the credit in the PDF is the one in the ledger export, and an edited
ledger row is found."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text
from test_serve_smoke import slakeeper

from conftest import EXAMPLES
from slakeeper.bootstrap import build
from slakeeper.config import Settings
from slakeeper.services import customers, ingest, policy_versions, tenancy
from slakeeper.services.records import Customer

NOW = datetime.now(UTC)
#: Last month (it has ended), and a 2-hour outage on its last day (at most 31 days ago, inside
#: the ingest retention window whatever today is).
LAST = (NOW.replace(day=1) - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
PERIOD = f"{LAST.year}-{LAST.month:02d}"
OUTAGE_START = LAST.replace(hour=9)


def prepare(database_url: str) -> None:
    """Organisation ``ops`` on trulayer with customer ``acme`` (pro, 1,250 USD) and two hours
    of 5xx from both regions on the 10th of last month."""
    container = build(Settings(database_url=database_url))
    try:
        container.upgrade()
        with container.uow() as uow:
            org, _ = tenancy.create_organisation(uow, slug="ops", name="Ops", actor="cli", now=NOW)
            principal = tenancy.cli_principal(org)
            policy_versions.upload(
                uow, principal, (EXAMPLES / "trulayer.yaml").read_text("utf-8"), now=NOW
            )
            customers.create(uow, principal, Customer(
                org_id=org.id, id="acme", name="ACME", plan="pro",
                monthly_fee=Decimal("1250.00"), annual_fee=None,
                currency="USD", billing_period="monthly", timezone="UTC",
                contract_start=None, contract_end=None,
            ), NOW)  # fmt: skip
            uow.commit()
        buckets = [
            {"minute": (OUTAGE_START + timedelta(minutes=m)).isoformat(), "region": region,
             "component": "ingest-api", "statuses": {"200": 10, "502": 1}}
            for m in range(120) for region in ("us-east", "eu-west")
        ]  # fmt: skip
        body = json.dumps({"buckets": buckets}).encode()
        answer = ingest.ingest(
            container.uow, principal, key="last-month", body=body,
            content_type="application/json", content_encoding=None, now=NOW,
        )  # fmt: skip
        assert answer["accepted"] == 240, answer
    finally:
        container.close()


def test_close_report_and_ledger_from_the_command_line(database_url: str, tmp_path: Path) -> None:
    prepare(database_url)
    closed = slakeeper(database_url, "close", "--org", "ops", "--period", PERIOD, cwd=tmp_path)
    assert closed.returncode == 0, closed.stderr
    assert f"{PERIOD} closed (revision 1" in closed.stdout
    assert "acme:" in closed.stdout
    assert "(eligible)" in closed.stdout

    exported = slakeeper(database_url, "ledger", "export", "--org", "ops", "--format", "csv",
                         cwd=tmp_path)  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    (row,) = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert (row["customer"], row["kind"], row["currency"]) == ("acme", "eligible", "USD")

    report = slakeeper(database_url, "report", "--org", "ops", "--customer", "acme",
                       "--period", PERIOD, cwd=tmp_path)  # fmt: skip
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["credit"]["amount"] == row["amount"]
    pdf = tmp_path / "acme.pdf"
    made = slakeeper(database_url, "report", "--org", "ops", "--customer", "acme", "--period",
                     PERIOD, "--format", "pdf", "--out", str(pdf), cwd=tmp_path)  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        words = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                               check=True).stdout  # fmt: skip
        assert row["amount"] in words

    verified = slakeeper(database_url, "ledger", "verify", "--org", "ops", cwd=tmp_path)
    assert verified.returncode == 0, verified.stderr
    assert "every credit re-computed equal" in verified.stdout

    build_engine = build(Settings(database_url=database_url))
    try:
        with build_engine.engine.begin() as connection:
            connection.execute(text("UPDATE ledger_entries SET amount = '1.00' WHERE seq = 1"))
            connection.execute(text("UPDATE credits SET amount = '1.00'"))
    finally:
        build_engine.close()
    tampered = slakeeper(database_url, "ledger", "verify", "--org", "ops", cwd=tmp_path)
    assert tampered.returncode == 1
    assert "error: ledger entry 1: was changed after it was written" in tampered.stderr
    assert f"error: {PERIOD} acme: recorded 1.00 USD, recomputed {row['amount']} USD" in (
        tampered.stderr
    )
    assert "Traceback" not in tampered.stderr
