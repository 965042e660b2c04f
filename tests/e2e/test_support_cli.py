"""The support commands as a person runs them."""

from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal
from pathlib import Path

from conftest import EXAMPLES, ROOT, slakeeper_command
from slakeeper import bootstrap
from slakeeper.config import Settings
from slakeeper.services import customers, policy_versions, tenancy
from slakeeper.services.records import Customer

SAAS = str(EXAMPLES / "generic-saas.yaml")
SAMPLE = str(ROOT / "examples" / "tickets" / "generic-saas-2026.csv")
YEAR = ("--from", "2026-01-01T00:00:00Z", "--to", "2027-01-01T00:00:00Z")


def slakeeper(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*slakeeper_command(), *args], capture_output=True, text=True, check=False, env=env
    )


def test_the_offline_review_of_the_sample_shows_breaches_and_findings() -> None:
    result = slakeeper("support", "review", "--policy", SAAS, "--tickets", SAMPLE, *YEAR)
    assert result.returncode == 0, result.stderr
    assert "41 requests" in result.stdout
    assert "Findings" in result.stdout
    assert "tuning requests are" in result.stdout
    assert "T-1006 acme-corp (enterprise) normal response: due" in result.stdout


def test_the_offline_review_as_json_lists_each_breach() -> None:
    result = slakeeper(
        "support", "review", "--policy", SAAS, "--tickets", SAMPLE, *YEAR, "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["requests"] == 41
    breached = sum(row["breached"] for row in document["targets"])
    assert breached == len(document["breaches"]) > 0


def test_an_unreadable_csv_names_every_bad_row(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "id,customer,severity,opened_at\n"
        "T-1,acme,urgnet,2026-01-05T09:00:00Z\n"
        "T-2,acme,urgent,2026-01-05T09:00:00\n",
        encoding="utf-8",
    )
    result = slakeeper("support", "review", "--policy", SAAS, "--tickets", str(bad))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert "row 2" in lines[0]
    assert "did you mean 'urgent'" in lines[0]
    assert "row 3" in lines[1]


def test_import_review_and_worker_on_the_server(tmp_path: Path) -> None:
    env = {**os.environ, "SLAKEEPER_DATABASE_URL": f"sqlite:///{tmp_path}/s.db"}
    assert slakeeper("db", "upgrade", env=env).returncode == 0
    assert slakeeper("org", "create", "--slug", "acme", "--name", "Acme", env=env).returncode == 0
    container = bootstrap.build(Settings(database_url=env["SLAKEEPER_DATABASE_URL"]))
    with container.uow() as uow:
        org = uow.organisations.by_slug("acme")
        assert org is not None
        principal = tenancy.cli_principal(org)
        now = container.clock.now()
        policy_versions.upload(uow, principal, Path(SAAS).read_text("utf-8"), now=now)
        plans = {
            "acme-corp": "enterprise", "initech": "launch", "globex": "business",
            "hooli": "launch", "stark-labs": "enterprise", "umbrella": "developer",
        }  # fmt: skip
        for customer_id, plan in plans.items():
            customers.create(uow, principal, Customer(
                org_id=org.id, id=customer_id, name=customer_id, plan=plan, monthly_fee=None,
                annual_fee=Decimal(1200), currency="USD",
                billing_period="monthly", timezone="America/New_York", contract_start=None,
                contract_end=None), now)  # fmt: skip
        uow.commit()
    container.close()
    dry = slakeeper("tickets", "import", SAMPLE, "--org", "acme", "--dry-run", env=env)
    assert (dry.returncode, dry.stdout.strip()) == (0, "41 requests readable")
    stored = slakeeper("tickets", "import", SAMPLE, "--org", "acme", env=env)
    assert (stored.returncode, stored.stdout.strip()) == (0, "41 requests imported")
    review = slakeeper("support", "review", "--org", "acme", *YEAR, "--format", "json", env=env)
    assert json.loads(review.stdout)["requests"] == 41
    worker = slakeeper("worker", "--once", env=env)
    assert worker.returncode == 0, worker.stderr
    assert "new notifications" in worker.stdout
    assert "kept in the outbox" in worker.stdout
    verify = slakeeper("audit", "verify", "--org", "acme", env=env)
    assert verify.returncode == 0, verify.stderr
