"""``slakeeper demo`` as a person runs it: five organisations, each with a generated month that
is closed, whose figures equal ``slakeeper evaluate`` on the month's facts, whose ledgers and
ingest ledgers check out, and whose reports the server hands out (the credit in the PDF is the
one in the ledger export).

Real processes (the console script of this environment) on a SQLite file.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_serve_smoke import environment

from conftest import EXAMPLES, slakeeper_command
from pg import free_port
from slakeeper.bootstrap import build
from slakeeper.config import Settings
from slakeeper.policy.loader import load_policy_file
from slakeeper.services.evaluate import as_json, evaluate
from slakeeper.services.facts import load_facts

SLUGS = ("trulayer", "opsmantik", "oneai", "generic-saas", "ai-agency")
#: Organisations whose policy declares force majeure, and so exclude some of it.
FORCE_MAJEURE = ("trulayer", "generic-saas")
CLOSED = re.compile(r"each with (\d{4}-\d{2}) generated and closed")
ORGANISATION = re.compile(
    r"^(?P<slug>[a-z-]+) \(.+\): (?P<customers>\d+) customers, credits: .+\n"
    r"  status page: (?P<status>\S+)\n"
    r"  operator: (?P<email>\S+)\n"
    r"  password \(shown once\): (?P<password>[A-Za-z0-9]{16})\n"
    r"  admin key \(shown once\): (?P<key>slk_\S+)\n"
    r"  report: curl -H 'Authorization: Bearer (?P=key)' -o \S+ '(?P<report>\S+)'$",
    re.MULTILINE,
)
STARTUP_SECONDS = 30
FIGURES = ("downtime_seconds", "excluded_seconds", "counted_downtime_seconds")


def run_all(commands: Sequence[list[str]], env: dict[str, str], cwd: Path) -> list[Any]:
    """Run ``commands`` four at a time; their completed processes, in order."""
    done: list[subprocess.CompletedProcess[str]] = []
    for first in range(0, len(commands), 4):
        running = [
            subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
            for command in commands[first : first + 4]
        ]  # fmt: skip
        for command, process in zip(commands[first : first + 4], running, strict=True):
            out, err = process.communicate(timeout=180)
            done.append(subprocess.CompletedProcess(command, process.returncode, out, err))
    return done


def stored(database_url: str, period: str) -> dict[str, dict[str, Any]]:
    """Per organisation: its closes, customers' reports, credits and data-loss events."""
    container = build(Settings(database_url=database_url))
    found: dict[str, dict[str, Any]] = {}
    try:
        with container.uow() as uow:
            for slug in SLUGS:
                org = uow.organisations.by_slug(slug)
                assert org is not None, slug
                reports = {}
                for customer in uow.customers.list(org.id, None, 1000):
                    report = uow.closes.report(org.id, period, customer.id)
                    assert report is not None, (slug, customer.id)
                    reports[customer.id] = json.loads(report.document)
                found[slug] = {
                    "closes": list(uow.closes.closes(org.id, period)),
                    "reports": reports,
                    "credits": {c.customer_id: c for c in uow.closes.credits(org.id, period)},
                    "data_loss": list(uow.closes.data_loss(org.id)),
                    "fees": {c.id: c.monthly_fee for c in uow.customers.list(org.id, None, 1000)},
                }
    finally:
        container.close()
    return found


def test_demo_builds_five_closed_months_that_check_out_and_serves_their_reports(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite:///{tmp_path}/demo.db"
    env = environment(database_url)
    facts = tmp_path / "facts"
    started = time.monotonic()
    demo = subprocess.run(
        [*slakeeper_command(), "demo", "--no-serve", "--database", database_url,
         "--facts", str(facts)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    built_in = time.monotonic() - started
    assert demo.returncode == 0, demo.stderr
    assert "Traceback" not in demo.stdout + demo.stderr
    assert built_in < 60, f"the demo took {built_in:.0f} s to build"

    # What it prints: the period, the dashboard and the API docs, and per organisation the
    # status page, an operator sign-in, an admin key and a report to download.
    period_found = CLOSED.search(demo.stdout)
    assert period_found, demo.stdout
    period = period_found.group(1)
    assert "dashboard: http://127.0.0.1:8000/\n" in demo.stdout
    assert "API docs: http://127.0.0.1:8000/docs\n" in demo.stdout
    printed = {m["slug"]: m for m in ORGANISATION.finditer(demo.stdout)}
    assert sorted(printed) == sorted(SLUGS), demo.stdout
    for slug, lines in printed.items():
        assert lines["status"] == f"http://127.0.0.1:8000/status/{slug}"
        assert lines["email"] == f"operator@{slug}.demo"
        assert re.fullmatch(
            rf"http://127\.0\.0\.1:8000/api/v1/reports/[a-z0-9-]+/{period}\?format=pdf",
            lines["report"],
        )

    # In the database: each organisation closed the period, with a report for every customer.
    data = stored(database_url, period)
    for slug, found in data.items():
        assert [c.revision for c in found["closes"]] == [1], slug
        assert len(found["reports"]) == int(printed[slug]["customers"]) >= 2
        assert all(r["status"] == "closed" for r in found["reports"].values())
        # A late maintenance is in every organisation's reports, ignored, with the reason.
        ignored = [i for r in found["reports"].values() for i in r["ignored_exclusions"]
                   if i["category"] == "scheduled-maintenance"]  # fmt: skip
        assert ignored, slug
    notice = [i["reason"] for found in data.values() for r in found["reports"].values()
              for i in r["ignored_exclusions"] if "notice required" in i["reason"]]  # fmt: skip
    assert notice, "no late maintenance was ignored for want of notice"
    for slug in FORCE_MAJEURE:
        applied = [e for r in data[slug]["reports"].values() for e in r["exclusions"]
                   if e["category"] == "force-majeure"]  # fmt: skip
        assert applied, f"{slug}: no report applies the force-majeure exclusion"
    # The data-loss event gives its customer a credit of the whole fee and a termination right.
    losses = [(slug, loss) for slug, found in data.items() for loss in found["data_loss"]]
    assert len(losses) == 1, losses
    slug, loss = losses[0]
    credit = data[slug]["credits"][loss.customer_id]
    assert credit.amount == data[slug]["fees"][loss.customer_id] > 0
    assert data[slug]["reports"][loss.customer_id]["credit"]["termination_right"] is True

    # Every figure equals an evaluation of the facts the generator wrote for the month (the
    # code of `slakeeper evaluate`, in process: tests/integration/test_close_thousand.py runs
    # the command itself).
    files = sorted(facts.glob("*.json"))
    assert {f.name.split(f"-{period}")[0] for f in files} == set(SLUGS)
    compared = 0
    for file in files:
        slug = file.name.split(f"-{period}")[0]
        loaded = load_policy_file(EXAMPLES / f"{slug}.yaml")
        evaluated = as_json(evaluate(loaded, load_facts(file, loaded.policy), period))
        for expected in evaluated["customers"]:
            report = data[slug]["reports"][expected["id"]]
            assert report["uptime"]["percent_exact"] == expected["uptime_percent"]
            for figure in FIGURES:
                assert report["uptime"][figure] == expected[figure], (slug, expected["id"])
            assert report["credit"]["amount"] == expected["credit"]["amount"]
            recorded = data[slug]["credits"].get(expected["id"])
            amount = "0.00" if recorded is None else format(recorded.amount, "f")
            assert amount == expected["credit"]["amount"], (slug, expected["id"])
            compared += 1
    assert compared == sum(len(found["reports"]) for found in data.values())

    # The credit ledgers and the ingest ledgers check out. On SQLite every transaction, a
    # reading one too, begins IMMEDIATE (takes the write lock): the checks start side by side
    # but queue for the database, so they wait longer than the default 5 s for it.
    checks = run_all(
        [[*slakeeper_command(), *command, "--org", slug] for slug in SLUGS
         for command in (["ledger", "verify"], ["integrity", "check"])],
        {**env, "SLAKEEPER_SQLITE_BUSY_TIMEOUT_MS": "180000"}, tmp_path,
    )  # fmt: skip
    for check in checks:
        assert check.returncode == 0, (check.args, check.stdout, check.stderr)

    # Served: the PDF report of a credited customer carries the amount of the ledger export.
    slug = "trulayer"
    customer = printed[slug]["report"].split("/reports/")[1].split("/")[0]
    assert customer in data[slug]["credits"], "the printed report is of a credited customer"
    exported = subprocess.run(
        [*slakeeper_command(), "ledger", "export", "--org", slug, "--format", "json",
         "--customer", customer],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    amount = json.loads(exported.stdout)[-1]["amount"]
    assert amount == format(data[slug]["credits"][customer].amount, "f")
    pdf = served_report(tmp_path, env, printed[slug]["key"], printed[slug]["report"], slug)
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is missing: the PDF's text is not checked")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    words = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                           check=True).stdout  # fmt: skip
    assert f"{amount} USD" in words


def served_report(tmp_path: Path, env: dict[str, str], key: str, url: str, slug: str) -> bytes:
    """``slakeeper serve`` on the demo's database: the report at ``url`` (printed for port
    8000, asked of the port it runs on) with the organisation's admin key."""
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*slakeeper_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, cwd=tmp_path, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"serve exited with {process.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"/healthz did not answer in {STARTUP_SECONDS} s:\n{log.read_text()}")
            time.sleep(0.1)
        assert httpx.get(f"{base}/status/{slug}", timeout=30).status_code == 200
        answer = httpx.get(
            url.replace("http://127.0.0.1:8000", base),
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/pdf"
        return answer.content
    finally:
        process.kill()
        process.wait(timeout=30)
