"""The operator dashboard in a real headless Chromium with JavaScript off, served by a real
``slakeeper serve --no-workers`` on a prepared SQLite database."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from conftest import EXAMPLES, ROOT, slakeeper_command
from conftest_db import missing_service
from pg import free_port
from slakeeper.bootstrap import build
from slakeeper.config import Settings
from slakeeper.services import (
    customers,
    incidents,
    operators,
    policy_versions,
    slos,
    tenancy,
    tickets,
)
from slakeeper.services.records import Customer, Scope

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
SCREENSHOT = ROOT / "docs" / "images" / "dashboard.png"
EMAIL, PASSWORD = "olga@acme.test", "correct horse battery staple"
STARTUP_SECONDS = 30


def prepare(database_url: str) -> str:
    """Organisation acme on opsmantik, customer globex, an operator, an open incident, a support
    request near its response target, maintenance in three days; the secret of an ingest key."""
    container = build(Settings(database_url=database_url))
    try:
        container.upgrade()
        now = container.clock.now()
        with container.uow() as uow:
            org, _ = tenancy.create_organisation(
                uow, slug="acme", name="Acme", actor="cli", now=now
            )
            who = tenancy.cli_principal(org)
            text = (EXAMPLES / "opsmantik.yaml").read_text(encoding="utf-8")
            policy_versions.upload(uow, who, text, now=now)
            customers.create(uow, who, Customer(
                org_id=org.id, id="globex", name="Globex Corporation", plan="enterprise",
                monthly_fee=Decimal("100"), annual_fee=None, currency="USD",
                billing_period="monthly", timezone="UTC", contract_start=None, contract_end=None,
            ), now)  # fmt: skip
            operators.create(uow, org, email=EMAIL, name="Olga Operator", password=PASSWORD,
                             now=now)  # fmt: skip
            incidents.declare(uow, who, incident_id="INC-7", title="Dashboard lagging",
                              severity="p1", components={"dashboard": "degraded-performance"},
                              customers=[], fields={}, started_at=now - timedelta(minutes=20),
                              message="Investigating", notify=False, now=now)  # fmt: skip
            tickets.open_ticket(uow, who, ticket_id="T-42", customer_id="globex",
                                severity="p1", request_type="incident",
                                subject="Events missing from the export",
                                opened_at=now - timedelta(hours=3, minutes=30),
                                now=now)  # fmt: skip
            incidents.schedule_maintenance(uow, who, window_id="MW-9", title="Queue migration",
                                           components=["api-sync"],
                                           starts_at=now + timedelta(days=3),
                                           ends_at=now + timedelta(days=3, hours=2),
                                           announced_at=now, now=now)  # fmt: skip
            issued = tenancy.create_key(
                uow, who, name="ingest", scopes=[Scope.INGEST], customer_id=None, now=now
            )
            uow.commit()
        return issued.secret
    finally:
        container.close()


def environment(database_url: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("SLAKEEPER_")}
    env["SLAKEEPER_DATABASE_URL"] = database_url
    env["SLAKEEPER_SECRET_KEY"] = "a-secret-for-the-browser-test-0123456789abcdef"
    return env


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """``slakeeper serve --no-workers`` on the prepared database, with an hour of 5xx traffic
    ingested over HTTP and the burn-rate alerts evaluated; its base URL."""
    database_url = f"sqlite:///{tmp_path / 'dashboard.db'}"
    ingest_key = prepare(database_url)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*slakeeper_command(), "serve", "--no-workers", "--host", "127.0.0.1",
             "--port", str(port)],
            env=environment(database_url), cwd=tmp_path, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, log.read_text(errors="replace")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.1)
        start = (time.time() // 60 - 120) * 60
        buckets = [
            {"minute": time.strftime("%Y-%m-%dT%H:%M:00Z", time.gmtime(start + 60 * n)),
             "component": "api-sync",
             "statuses": {"200": 900, "503": 100} if n >= 60 else {"200": 1000}}
            for n in range(120)
        ]  # fmt: skip
        answer = httpx.post(
            f"{base}/api/v1/ingest", json={"buckets": buckets}, timeout=30,
            headers={"Authorization": f"Bearer {ingest_key}", "Idempotency-Key": "burn"},
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
        container = build(Settings(database_url=database_url))
        try:
            slos.run_alerts(container.uow, container.clock.now())
        finally:
            container.close()
        yield base
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
    assert "Traceback" not in log.read_text(errors="replace")


def test_the_dashboard_works_without_javascript_on_a_phone_and_a_desktop(
    served: str, tmp_path: Path
) -> None:
    if not Path(CHROMIUM).exists():
        missing_service(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    shots: dict[str, Path] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for name, width, height in (("phone", 390, 844), ("desktop", 1280, 800)):
                context = browser.new_context(
                    java_script_enabled=False, viewport={"width": width, "height": height}
                )
                page = context.new_page()
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(f"{served}/")
                assert page.url == f"{served}/login"
                page.fill("#email", EMAIL)
                page.fill("#password", PASSWORD)
                page.click("button[type=submit]")
                assert page.url == f"{served}/"
                assert page.locator("h1").inner_text() == "Overview"
                main = page.locator("main").inner_text()
                expected = ("API uptime (/api/sync)", "Globex Corporation", "firing",
                            "Dashboard lagging", "Events missing", "Queue migration")  # fmt: skip
                for text in expected:
                    assert text in main, text
                for landmark in ("header", "nav", "main", "footer"):
                    assert page.locator(landmark).count() >= 1, landmark
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                shots[name] = tmp_path / f"dashboard-{name}.png"
                page.screenshot(path=str(shots[name]), full_page=True)
                page.keyboard.press("Tab")  # the first stop is the skip link
                assert page.evaluate("document.activeElement.className") == "skip"

                page.click("a[href='/customers/globex']")
                assert page.url == f"{served}/customers/globex"
                assert page.locator("h1").inner_text() == "Globex Corporation"
                assert "projected credit" in page.locator("main").inner_text().lower()
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                page.goto(f"{served}/slos/api-availability")
                assert page.locator("svg.chart g").count() == 24
                assert page.evaluate("document.documentElement.scrollWidth") <= width

                page.click("button:has-text('Sign out')")
                assert page.url == f"{served}/login"
                page.goto(f"{served}/")
                assert page.url == f"{served}/login"
                context.close()
        finally:
            browser.close()
    assert errors == []
    if os.environ.get("SLAKEEPER_KEEP_ARTIFACTS") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shots["desktop"], SCREENSHOT)
