"""The customer's SLA report: HTML in headless Chromium (desktop and phone), PDF pages, bytes.

The sample document (``tests/fixtures/reports/sample-report.json``) is October 2026 in
Europe/Berlin for ACME Corp on the Pro plan: an hour's outage, an excluded maintenance window,
a maintenance announced too late (ignored as an exclusion), two SLOs (one exhausted), two
incidents (one response breached), two support requests (one still open) and a 10 % credit.
The browser and PDF tests skip when Chromium or pdftoppm is missing, and fail instead when
``SLAKEEPER_REQUIRE_SERVICES=1``. With ``SLAKEEPER_KEEP_ARTIFACTS=1`` the screenshots are kept
in ``tests/artifacts`` and the desktop view is written to ``docs/images/report.png``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from conftest_db import missing_service
from slakeeper.services.report_render import SECTION_TITLES, render_report

SAMPLE = ROOT / "tests" / "fixtures" / "reports" / "sample-report.json"
ARTIFACTS = ROOT / "tests" / "artifacts"
README_IMAGE = ROOT / "docs" / "images" / "report.png"
KEEP = os.environ.get("SLAKEEPER_KEEP_ARTIFACTS") == "1"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CREDIT = "125.00 USD"
DEADLINE = "1 December 2026, 00:00 Europe/Berlin (2026-11-30 23:00 UTC)"


def sample() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    return document


def html(document: dict[str, Any] | None = None) -> str:
    return render_report(sample() if document is None else document, "html").decode("utf-8")


def require_program(path: Path | str | None, what: str) -> None:
    if path is None or not Path(path).exists():
        missing_service(f"{what} is not installed")


# --------------------------------------------------------------------------- the document
def test_the_sample_is_a_month_with_an_outage_exclusions_slos_clocks_and_a_credit() -> None:
    document = sample()
    assert len(document["uptime"]["daily"]) == 31
    assert len(document["uptime"]["components"]) == 2
    assert len(document["exclusions"]) == len(document["ignored_exclusions"]) == 1
    assert len(document["slos"]) == len(document["incidents"]) == len(document["support"]) == 2
    assert document["credit"]["percent"] == "10"


def test_rendering_twice_gives_identical_html_bytes() -> None:
    assert render_report(sample(), "html") == render_report(sample(), "html")


def test_figures_are_printed_as_given_never_through_a_float() -> None:
    document = sample()
    document["uptime"]["percent"] = "99.8430"
    document["credit"]["amount"] = "0.10"
    document["credit"]["explanation"] = ["Monthly fee 1.00 USD x 10 % = 0.10 USD."]
    text = html(document)
    assert "99.8430 %" in text
    assert "0.10 USD" in text
    assert "0.1 USD" not in text


def test_the_report_is_standalone_html_without_script() -> None:
    text = html()
    assert "<script" not in text
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text
    assert "<style>" in text


def test_document_text_is_escaped() -> None:
    document = sample()
    hostile = "<script>alert(1)</script> & <b>bold</b>"
    document["customer"]["name"] = hostile
    document["exclusions"][0]["reason"] = hostile
    document["incidents"][0]["id"] = hostile
    document["slos"][0]["name"] = hostile
    text = html(document)
    assert "<script>" not in text
    assert "<b>bold</b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in text


def test_an_open_period_with_nothing_to_report_says_none_in_each_section() -> None:
    document = sample()
    document["status"] = "open"
    for key in ("exclusions", "ignored_exclusions", "slos", "incidents", "support"):
        document[key] = []
    document["responsibilities"] = []
    document["scope"] = {"covered": [], "not_covered": []}
    document["uptime"]["daily"] = []
    document["credit"].update(
        percent=None, amount="0.00", state="none", explanation=[], reason=None, capped=False
    )
    document["claim"]["deadline"] = None
    text = html(document)
    for line in (
        "Open: the period so far.",
        "No daily uptime for this period.",
        "No downtime was excluded in this period.",
        "The policy reports no service level objectives for this plan.",
        "No incidents affected this customer in the period.",
        "No incidents or support requests.",
        "No support requests in the period.",
        "There is no credit to claim for this period.",
        "The policy names no customer responsibilities.",
        "The policy lists nothing as covered.",
    ):
        assert line in text
    for title in SECTION_TITLES:
        assert f">{title}</h2>" in text


def test_a_document_of_another_kind_or_with_a_missing_field_is_refused() -> None:
    document = sample()
    document["version"] = 2
    with pytest.raises(ValueError, match="version 1"):
        render_report(document, "html")
    document = sample()
    del document["uptime"]["daily"]
    with pytest.raises(ValueError, match="incomplete"):
        render_report(document, "html")
    with pytest.raises(ValueError, match="unknown report format"):
        render_report(sample(), "docx")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- html in chromium
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_program(CHROMIUM, "Chromium (/usr/bin/chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.mark.parametrize(
    ("name", "width", "height"), [("desktop", 1024, 1100), ("phone", 390, 844)]
)
def test_the_html_report_reads_in_chromium_on_a_desktop_and_a_phone(
    browser: Any, tmp_path: Path, name: str, width: int, height: int
) -> None:
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    try:
        page.set_content(html(), wait_until="load")
        headings = page.locator("main h2").all_inner_texts()
        landmarks = [page.locator(tag).count() for tag in ("header", "nav", "main", "footer")]
        main = page.locator("main").inner_text()
        bars = page.locator("svg.strip rect.bar").count()
        charts = page.locator("svg.chart")
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('svg.chart')].filter(svg =>
                svg.getAttribute('role') !== 'img' || !svg.querySelector(':scope > title')
                || !svg.querySelector(':scope > desc')).length"""
        )
        headerless = page.evaluate(
            "() => [...document.querySelectorAll('table')].filter(t => !t.querySelector('th'))"
            ".length"
        )
        scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
        inner_width = page.evaluate("window.innerWidth")
        chart_boxes = [charts.nth(index).bounding_box() for index in range(charts.count())]
        shot = tmp_path / f"report-{name}.png"
        page.screenshot(path=str(shot), full_page=True)
        view = tmp_path / f"report-{name}-top.png"
        page.screenshot(path=str(view))
    finally:
        page.close()
    assert errors == []
    assert requests == [], "the report must be standalone"
    assert headings == list(SECTION_TITLES)
    assert landmarks == [1, 1, 1, 1]
    assert CREDIT in main
    assert DEADLINE in main
    assert bars == 31
    assert unlabelled == 0
    assert headerless == 0
    assert scroll_width <= inner_width, "no horizontal scrolling"
    assert len(chart_boxes) == 4  # the strip, two burn-downs, the clocks
    for box in chart_boxes:
        assert box is not None
        assert 0 < box["width"] <= width
    if KEEP:
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(shot, ARTIFACTS / shot.name)
        if name == "desktop":
            README_IMAGE.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(view, README_IMAGE)


# --------------------------------------------------------------------------- pdf pages
def test_the_pdf_report_has_pages_with_every_section_and_the_credit(tmp_path: Path) -> None:
    from PIL import Image
    from pypdf import PdfReader

    pdftoppm = shutil.which("pdftoppm")
    require_program(pdftoppm, "pdftoppm")
    assert pdftoppm is not None
    content = render_report(sample(), "pdf")
    assert content.startswith(b"%PDF-")
    assert content == render_report(sample(), "pdf"), "the same document, the same PDF"
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(content)
    reader = PdfReader(pdf)
    assert len(reader.pages) >= 2
    assert reader.metadata is not None
    assert reader.metadata.title == "Service level report: ACME Corp, 2026-10"
    assert reader.metadata.author == "TruLayer Inc."
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    assert CREDIT in text
    for title in SECTION_TITLES:
        assert title in text
    subprocess.run([pdftoppm, "-png", "-r", "50", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == len(reader.pages)
    for path in pages:
        with Image.open(path) as image:
            histogram = image.convert("L").histogram()
        assert sum(histogram[:128]) > 100, f"{path.name} is blank (no dark pixels)"
    if KEEP:
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(pdf, ARTIFACTS / "report.pdf")
