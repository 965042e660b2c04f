"""The public status page in a real headless Chromium, served by a real uvicorn server."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn

from conftest import EXAMPLES
from conftest_db import missing_service
from pg import free_port
from slakeeper.api.app import create_app
from slakeeper.bootstrap import build
from slakeeper.config import Settings
from slakeeper.services import incidents, policy_versions, tenancy

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The app (with the status page) on a SQLite file, org ``acme`` with trulayer, a resolved
    outage and an open degradation; the base URL of a uvicorn server on 127.0.0.1."""
    container = build(Settings(database_url=f"sqlite:///{tmp_path / 'status.db'}"))
    container.upgrade()
    now = container.clock.now()
    with container.uow() as uow:
        org, _ = tenancy.create_organisation(uow, slug="acme", name="Acme", actor="cli", now=now)
        who = tenancy.cli_principal(org)
        text = (EXAMPLES / "trulayer.yaml").read_text(encoding="utf-8")
        policy_versions.upload(uow, who, text, now=now)
        start = now - timedelta(days=5, hours=3)
        incidents.declare(uow, who, incident_id="INC-1", title="Ingest down", severity="sev-1",
                          components={"ingest-api": "major-outage"}, customers=[], fields={},
                          started_at=start, message="Investigating", notify=False,
                          now=now)  # fmt: skip
        incidents.add_update(uow, who, "INC-1", status="resolved", message="Fixed",
                             components={"ingest-api": "operational"}, notify=False,
                             at=start + timedelta(hours=2), now=now)  # fmt: skip
        incidents.declare(uow, who, incident_id="INC-2", title="Slow dashboard",
                          severity="sev-3", components={"dashboard": "degraded-performance"},
                          customers=[], fields={}, started_at=now - timedelta(hours=5),
                          message="Pages load slowly", notify=False, now=now)  # fmt: skip
        uow.commit()
    app = create_app(container)
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        container.close()


def test_the_status_page_renders_in_chromium_on_a_phone_and_a_desktop(
    server: str, tmp_path: Path
) -> None:
    if not Path(CHROMIUM).exists():
        missing_service(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    shots: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for name, width, height in (("phone", 390, 844), ("desktop", 1280, 800)):
                page = browser.new_page(viewport={"width": width, "height": height})
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
                answer = page.goto(f"{server}/status/acme")
                assert answer is not None
                assert answer.status == 200
                groups = page.locator("svg.bars")
                assert groups.count() == 5
                for index in range(groups.count()):
                    assert groups.nth(index).locator("rect").count() == 90
                box = groups.first.bounding_box()
                assert box is not None
                assert 0 < box["width"] <= width
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                bar = groups.first.locator("rect").last
                bar.focus()
                label = page.evaluate("document.activeElement.getAttribute('aria-label')")
                assert label is not None
                assert "uptime" in label
                page.keyboard.press("Shift+Tab")
                previous = page.evaluate("document.activeElement.getAttribute('aria-label')")
                assert previous is not None
                assert previous != label
                assert page.locator("header").count() == 1
                assert page.locator("footer").count() == 1
                assert "Slow dashboard" in page.locator("main").inner_text()
                shot = tmp_path / f"status-{name}.png"
                page.screenshot(path=str(shot), full_page=True)
                shots.append(shot)
                if name == "desktop":
                    view = tmp_path / "status-page.png"
                    page.screenshot(path=str(view))  # the first screen, for the README
                page.close()
        finally:
            browser.close()
    assert errors == []
    if os.environ.get("SLAKEEPER_KEEP_ARTIFACTS") == "1":
        ARTIFACTS.mkdir(exist_ok=True)
        for shot in shots:
            shutil.copy(shot, ARTIFACTS / shot.name)
        images = ARTIFACTS.parent.parent / "docs" / "images"
        images.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "status-page.png", images / "status-page.png")


def test_the_subscription_form_works_without_javascript(server: str, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        missing_service(f"{CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(java_script_enabled=False)
            page = context.new_page()
            page.goto(f"{server}/status/acme")
            page.fill("#subscribe-email", "reader@example.test")
            page.check("input[name=component][value=dashboard]")
            page.click("button[type=submit]")
            assert page.locator("h1").inner_text() == "Check your inbox"
            assert "reader@example.test" in page.locator("main").inner_text()
            context.close()
        finally:
            browser.close()
    container = build(Settings(database_url=f"sqlite:///{tmp_path / 'status.db'}"))
    try:
        with container.uow() as uow:
            org = uow.organisations.by_slug("acme")
            assert org is not None
            (subscriber, *_) = uow.subscribers.list(org.id)
            outbox = uow.outbox.list(org.id)
    finally:
        container.close()
    assert (subscriber.target, subscriber.components) == ("reader@example.test", ("dashboard",))
    assert subscriber.confirmed_at is None
    assert [m.topic for m in outbox] == ["subscription.confirm"]
