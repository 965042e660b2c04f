"""The rendered agreement: Markdown snapshots, HTML in Chromium, PDF pages, and its numbers.

Snapshots of every example policy x plan live in ``tests/snapshots/agreements``; after a
deliberate change, regenerate them with ``SLAKEEPER_UPDATE_SNAPSHOTS=1`` and review the diff.
The browser and PDF tests skip when Chromium or pdftoppm is missing, and fail instead when
``SLAKEEPER_REQUIRE_SERVICES=1`` (as in CI).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLES, ROOT, slakeeper_command
from slakeeper.cli.main import run
from slakeeper.policy import compile as pc
from slakeeper.policy import models as pm
from slakeeper.policy.errors import PolicyError
from slakeeper.policy.loader import LoadedPolicy, load_policy_file, load_policy_text
from slakeeper.policy.overrides import apply_overrides, load_overrides_file, load_overrides_text
from slakeeper.policy.references import domain_band
from slakeeper.services.agreement import Format, render_agreement
from slakeeper.services.agreement_sections import SECTION_TITLES
from slakeeper.services.agreement_words import grouped_seconds, spell_duration
from slakeeper.services.evaluate import as_json, evaluate
from slakeeper.services.explain import human_seconds
from slakeeper.services.facts import load_facts

SNAPSHOTS = ROOT / "tests" / "snapshots" / "agreements"
ACME = ROOT / "tests" / "fixtures" / "overrides" / "acme-generic-saas.yaml"
UPDATE = os.environ.get("SLAKEEPER_UPDATE_SNAPSHOTS") == "1"
REQUIRED = os.environ.get("SLAKEEPER_REQUIRE_SERVICES") == "1"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HEADINGS = [f"{number}. {title}" for number, title in enumerate(SECTION_TITLES, start=1)]


def policies() -> dict[str, LoadedPolicy]:
    return {path.stem: load_policy_file(path) for path in sorted(EXAMPLES.glob("*.yaml"))}


LOADED = policies()
EXAMPLE_PLANS = [(name, plan.id) for name, loaded in LOADED.items() for plan in loaded.policy.plans]
PROMISED_PLANS = [
    (name, plan_id)
    for name, plan_id in EXAMPLE_PLANS
    if not LOADED[name].policy.plan(plan_id).uptime.best_effort
]


def markdown(policy: str, plan: str) -> str:
    return render_agreement(LOADED[policy], plan, Format.MARKDOWN).content.decode("utf-8")


def html(policy: str, plan: str) -> str:
    return render_agreement(LOADED[policy], plan, Format.HTML).content.decode("utf-8")


def check_snapshot(name: str, text: str) -> None:
    snapshot = SNAPSHOTS / name
    if UPDATE:
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(text, encoding="utf-8")
    assert snapshot.exists(), (
        f"no snapshot {name}: run with SLAKEEPER_UPDATE_SNAPSHOTS=1, review it"
    )
    assert text == snapshot.read_text(encoding="utf-8"), (
        f"{name} differs from its snapshot: if the change is deliberate, run with "
        "SLAKEEPER_UPDATE_SNAPSHOTS=1 and review the diff"
    )


def require_program(path: Path | str | None, what: str) -> None:
    if path is not None and Path(path).exists():
        return
    message = f"{what} is not installed"
    if REQUIRED:
        pytest.fail(f"{message} and SLAKEEPER_REQUIRE_SERVICES=1")
    pytest.skip(message)


# --------------------------------------------------------------------------- markdown
@pytest.mark.parametrize(("policy", "plan"), EXAMPLE_PLANS)
def test_markdown_agreement_matches_its_reviewed_snapshot(policy: str, plan: str) -> None:
    check_snapshot(f"{policy}--{plan}.md", markdown(policy, plan))


def test_a_customers_agreement_with_overrides_matches_its_reviewed_snapshot() -> None:
    loaded = LOADED["generic-saas"]
    overrides = load_overrides_file(ACME, loaded.policy, "enterprise")
    rendered = render_agreement(loaded, "enterprise", Format.MARKDOWN, overrides)
    assert rendered.filename == "generic-saas--enterprise--acme-corp.md"
    check_snapshot(rendered.filename, rendered.content.decode("utf-8"))


def test_every_snapshot_belongs_to_a_plan_of_an_example_policy() -> None:
    expected = {f"{policy}--{plan}.md" for policy, plan in EXAMPLE_PLANS}
    expected.add("generic-saas--enterprise--acme-corp.md")
    assert {path.name for path in SNAPSHOTS.glob("*.md")} == expected


@pytest.mark.parametrize(("policy", "plan"), EXAMPLE_PLANS)
def test_sections_come_in_the_order_seed_004_recommends(policy: str, plan: str) -> None:
    headings = re.findall(r"^## (.+)$", markdown(policy, plan), flags=re.MULTILINE)
    assert headings == HEADINGS


@pytest.mark.parametrize("output", list(Format))
def test_rendering_twice_gives_the_same_bytes(output: Format) -> None:
    first = render_agreement(LOADED["trulayer"], "pro", output)
    second = render_agreement(policies()["trulayer"], "pro", output)
    assert first.content == second.content
    assert first.etag == second.etag


def test_the_footer_names_the_policy_version() -> None:
    text = markdown("opsmantik", "enterprise")
    assert f"sha256 `{LOADED['opsmantik'].sha256}`" in text.splitlines()[-1]


HOSTILE = "<script>alert(1)</script> *bold* [link](https://evil.example) a_b _c_ | pipe"


def hostile_policy() -> LoadedPolicy:
    text = (ROOT / "tests" / "fixtures" / "lint" / "clean.yaml").read_text(encoding="utf-8")
    text = text.replace("description: The public REST API.", f"description: '{HOSTILE}'")
    return load_policy_text(text, "hostile.yaml")


def test_policy_text_is_shown_literally_in_markdown_never_as_markup() -> None:
    text = render_agreement(hostile_policy(), "business", Format.MARKDOWN).content.decode()
    expected = (
        r"\<script>alert(1)\</script> \*bold\* \[link\](https://evil.example) a_b \_c\_ | pipe"
    )
    assert f"- **API**: {expected}" in text


def test_policy_text_is_escaped_in_html() -> None:
    text = render_agreement(hostile_policy(), "business", Format.HTML).content.decode()
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


# --------------------------------------------------------------------------- its numbers
@pytest.mark.parametrize(("policy", "plan"), PROMISED_PLANS)
def test_allowed_downtime_is_what_compile_computes_for_28_30_and_31_days(
    policy: str, plan: str
) -> None:
    text = markdown(policy, plan)
    target = pc.target_ratio(LOADED[policy].policy.plan(plan))
    assert target is not None
    for days in (28, 30, 31):
        allowed = pc.allowed_downtime(target, timedelta(days=days))
        row = f"| {days} days | {human_seconds(allowed)} | {grouped_seconds(allowed)} s |"
        assert row in text


def test_trulayer_agreement_states_the_target_and_allowed_downtime_evaluate_enforces() -> None:
    loaded = LOADED["trulayer"]
    facts = load_facts(ROOT / "examples" / "facts" / "trulayer-2026-10.yaml", loaded.policy)
    result: dict[str, Any] = as_json(evaluate(loaded, facts, "2026-10"))
    checked = 0
    for customer in result["customers"]:
        text = markdown("trulayer", customer["plan"])
        if customer["target_percent"] is None:
            assert "This plan has no uptime commitment (best effort)." in text
            continue
        assert f"Uptime target: {customer['target_percent']} % in each calendar month" in text
        if customer["measured_seconds"] != str(31 * 86400):
            continue  # a contract starting or ending mid-month is measured on part of it
        allowed = customer["allowed_downtime_seconds"]
        assert f"| 31 days | {human_seconds(Fraction(allowed))} | " in text
        checked += 1
    assert checked


@pytest.mark.parametrize(("policy", "plan"), EXAMPLE_PLANS)
def test_credit_bands_are_the_bands_evaluate_pays(policy: str, plan: str) -> None:
    model = LOADED[policy].policy.plan(plan)
    text = markdown(policy, plan)
    schedule = None if model.credits is None else model.credits.schedule
    if isinstance(schedule, pm.TiersSchedule):
        for band in schedule.bands:
            # evaluate's credit reason names the band with this same description
            assert f"| {domain_band(band).describe()} | {band.percent} % |" in text
    elif isinstance(schedule, pm.TimePerExcessSchedule):
        assert f"capped at {schedule.cap_days} days" in text
    else:
        assert "This plan has no service credits." in text


@pytest.mark.parametrize(("policy", "plan"), EXAMPLE_PLANS)
def test_maintenance_is_excluded_with_the_notice_evaluate_uses(policy: str, plan: str) -> None:
    model = LOADED[policy].policy
    text = markdown(policy, plan)
    if pm.ExclusionCategory.SCHEDULED_MAINTENANCE in model.plan(plan).exclusions.honoured:
        notice = spell_duration(model.maintenance.min_notice)
        assert f"announced at least {notice} before it starts" in text
    else:
        assert "This plan does not exclude maintenance" in text


def test_support_targets_are_spelled_with_their_hours() -> None:
    text = markdown("opsmantik", "enterprise")
    assert "| Critical | 2 hours (Around the clock) | 8 hours (Around the clock) |" in text
    assert "| Normal | 24 hours (Around the clock) | 1 business day (Business hours) |" in text
    assert "- **Business hours**: Monday to Friday 09:00–18:00, UTC time" in text


# --------------------------------------------------------------------------- overrides
def test_overrides_change_the_enforced_terms_of_that_plan_only() -> None:
    policy = LOADED["generic-saas"].policy
    overrides = load_overrides_file(ACME, policy, "enterprise").overrides
    effective = apply_overrides(policy, "enterprise", overrides)
    assert pc.target_ratio(effective.plan("enterprise")) == Fraction("99.95") / 100
    assert effective.plan("business") == policy.plan("business")
    terms = pc.credit_terms(effective.plan("enterprise"))
    assert terms.cap_percent == 40
    urgent = [
        target
        for target in effective.support.targets
        if target.severity == "urgent" and "enterprise" in target.plans
    ]
    assert [(t.response, t.resolution) for t in urgent] == [
        (timedelta(minutes=30), timedelta(hours=4))
    ]
    others = [t for t in effective.support.targets if "enterprise" not in t.plans]
    assert others == [t for t in policy.support.targets if "enterprise" not in t.plans]


def test_overriding_one_clock_of_a_target_shared_by_every_plan_keeps_the_rest() -> None:
    text = (ROOT / "tests" / "fixtures" / "lint" / "clean.yaml").read_text(encoding="utf-8")
    policy = load_policy_text(text.replace("{severity: p1, plans: [business], ", "{severity: p1, "))
    overrides = load_overrides_text(
        "apiVersion: slakeeper/v1\nkind: CustomerOverrides\ncustomer: Acme\n"
        "support_targets: [{severity: Critical, response: 15m, calendar: 24x7}]\n",
        "acme.yaml",
        policy.policy,
        "business",
    ).overrides
    effective = apply_overrides(policy.policy, "business", overrides)
    p1 = [
        (t.plans, t.response, t.resolution)
        for t in effective.support.targets
        if t.severity in ("p1", "Critical")
    ]
    assert p1 == [
        (["free"], timedelta(hours=1), timedelta(hours=8)),
        (["business"], None, timedelta(hours=8)),
        (["business"], timedelta(minutes=15), None),
    ]


def test_overrides_for_another_plan_are_refused_at_their_line() -> None:
    policy = LOADED["generic-saas"].policy
    text = ACME.read_text(encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_overrides_text(text, "acme.yaml", policy, "business")
    problem = caught.value.problems[0]
    assert (problem.key, problem.line) == ("plan", 6)
    assert "not 'business'" in problem.message


def test_overrides_with_unknown_names_say_what_is_defined() -> None:
    policy = LOADED["generic-saas"].policy
    text = (
        "apiVersion: slakeeper/v1\nkind: CustomerOverrides\ncustomer: Acme\n"
        "support_targets:\n  - {severity: urgnt, response: 1h, calendar: 24x7x}\n"
        "credits: {cap_percent: 10, minimun_amount: 5}\n"
    )
    with pytest.raises(PolicyError) as caught:
        load_overrides_text(text, "acme.yaml", policy, "enterprise")
    messages = [f"{p.line}: {p.key}: {p.message}" for p in caught.value.problems]
    assert any("minimun_amount" in m and "did you mean 'minimum_amount'" in m for m in messages)
    text = text.replace("minimun_amount", "minimum_amount")
    with pytest.raises(PolicyError) as caught:
        load_overrides_text(text, "acme.yaml", policy, "enterprise")
    messages = [f"{p.line}: {p.key}: {p.message}" for p in caught.value.problems]
    assert any(m.startswith("5: support_targets[0].severity") and "'urgent'" in m for m in messages)
    assert any("calendar '24x7x'; did you mean '24x7'" in m for m in messages)


def test_overrides_that_break_the_plan_are_refused() -> None:
    policy = LOADED["generic-saas"].policy
    text = (
        "apiVersion: slakeeper/v1\nkind: CustomerOverrides\ncustomer: Acme\n"
        "credits: {cap_percent: 20}\n"
    )
    with pytest.raises(PolicyError) as caught:
        load_overrides_text(text, "acme.yaml", policy, "enterprise")
    assert "above the plan's cap of 20 %" in caught.value.problems[0].message


# --------------------------------------------------------------------------- the command
def slakeeper(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["slakeeper", *args])
    with pytest.raises(SystemExit) as exited:
        run()
    return int(exited.value.code or 0)


def test_render_command_prints_markdown_and_writes_html_to_a_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = str(EXAMPLES / "trulayer.yaml")
    assert slakeeper(monkeypatch, "policy", "render", policy, "--plan", "pro") == 0
    assert capsys.readouterr().out == markdown("trulayer", "pro")
    out = tmp_path / "pro.html"
    args = ("policy", "render", policy, "--plan", "pro", "--format", "html", "--out", str(out))
    assert slakeeper(monkeypatch, *args) == 0
    assert out.read_text(encoding="utf-8") == html("trulayer", "pro")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--plan", "enterprize"), "error: unknown plan 'enterprize'; did you mean 'enterprise'?"),
        (("--plan", "enterprise", "--format", "pdf"), "error: --format pdf writes binary data"),
        (("--plan", "enterprise", "--format", "docx"), "error: --format 'docx' is not known"),
        (
            ("--plan", "enterprise", "--customer-overrides", "missing.yaml"),
            "error: missing.yaml: cannot read",
        ),
    ],
)
def test_render_command_errors_are_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    message: str,
) -> None:
    code = slakeeper(monkeypatch, "policy", "render", str(EXAMPLES / "opsmantik.yaml"), *args)
    assert code != 0
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------- html in chromium
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_program(CHROMIUM, "Chromium (/usr/bin/chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.mark.parametrize(("policy", "plan"), EXAMPLE_PLANS)
def test_html_agreement_opens_in_chromium_without_errors(
    browser: Any, policy: str, plan: str
) -> None:
    page = browser.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    try:
        page.set_content(html(policy, plan), wait_until="load")
        headings = page.locator("h2").all_inner_texts()
        title = page.locator("h1").inner_text()
        page.emulate_media(media="print")
    finally:
        page.close()
    assert errors == []
    assert requests == [], "the page must be standalone"
    assert headings == HEADINGS
    assert title == LOADED[policy].policy.metadata.title


# --------------------------------------------------------------------------- pdf pages
@pytest.mark.parametrize(("policy", "plan"), EXAMPLE_PLANS)
def test_pdf_agreement_has_pages_with_every_section_heading(
    tmp_path: Path, policy: str, plan: str
) -> None:
    from pypdf import PdfReader

    pdftoppm = shutil.which("pdftoppm")
    require_program(pdftoppm, "pdftoppm")
    assert pdftoppm is not None
    rendered = render_agreement(LOADED[policy], plan, Format.PDF)
    assert rendered.media_type == "application/pdf"
    pdf = tmp_path / rendered.filename
    pdf.write_bytes(rendered.content)
    subprocess.run([pdftoppm, "-png", "-r", "50", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    reader = PdfReader(pdf)
    assert len(pages) == len(reader.pages) >= 1
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    for heading in HEADINGS:
        assert heading in text


def test_render_command_writes_a_pdf_file(tmp_path: Path) -> None:
    out = tmp_path / "agreement.pdf"
    result = subprocess.run(
        [
            *slakeeper_command(),
            "policy",
            "render",
            str(EXAMPLES / "ai-agency.yaml"),
            "--plan",
            "critical",
            "--format",
            "pdf",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(b"%PDF-")
    assert "application/pdf" in result.stderr
