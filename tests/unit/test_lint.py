"""``slakeeper policy lint``: each rule, silencing, exit codes, the CLI and the docs."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT
from slakeeper.cli.main import run
from slakeeper.policy.errors import PolicyError
from slakeeper.policy.located import load_text_with_source, load_with_source
from slakeeper.services.lint import RULES, Finding, Level, LintReport, lint

FIXTURES = ROOT / "tests" / "fixtures" / "lint"
CLEAN = (FIXTURES / "clean.yaml").read_text(encoding="utf-8")


def lint_text(text: str) -> LintReport:
    loaded, source = load_text_with_source(text, "policy.yaml")
    return lint(loaded, source)


def clean_with(*edits: tuple[str, str]) -> str:
    """The clean fixture with each ``old`` text (found exactly once) replaced by ``new``."""
    text = CLEAN
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} is not in clean.yaml exactly once"
        text = text.replace(old, new)
    return text


def codes(report: LintReport) -> list[str]:
    return [finding.code for finding in report.findings]


def only(report: LintReport, code: str) -> Finding:
    found = [finding for finding in report.findings if finding.code == code]
    assert len(found) == 1, report.findings
    return found[0]


# --------------------------------------------------------------------------- the fixtures
def test_a_clean_policy_gets_no_finding() -> None:
    report = lint_text(CLEAN)
    assert report.findings == ()
    assert report.exit_code == 0


def test_a_policy_committing_every_mistake_gets_every_code() -> None:
    report = lint(*load_with_source(FIXTURES / "every-mistake.yaml"))
    assert set(codes(report)) == {rule.code for rule in RULES}
    assert report.exit_code == 2


def test_every_mistake_fixture_marks_each_code_it_commits() -> None:
    text = (FIXTURES / "every-mistake.yaml").read_text(encoding="utf-8")
    assert {rule.code for rule in RULES} <= set(re.findall(r"SLA\d{3}", text))


def test_opsmantik_internal_availability_slo_is_looser_than_its_sla() -> None:
    report = lint(*load_with_source(EXAMPLES / "opsmantik.yaml"))
    finding = only(report, "SLA010")
    assert finding.level is Level.ERROR
    assert finding.key == "slos[0].objective"
    assert finding.line == 103
    assert "99.5 %" in finding.message
    assert "99.9 %" in finding.message
    assert report.exit_code == 2


EXPECTED_EXAMPLE_FINDINGS = {
    "ai-agency.yaml": [],
    "generic-saas.yaml": ["SLA003", "SLA006", "SLA007", "SLA007"],
    "oneai.yaml": ["SLA003", "SLA007"],
    "opsmantik.yaml": ["SLA003", "SLA006", "SLA010"],
    "trulayer.yaml": ["SLA006"],
}


@pytest.mark.parametrize("name", sorted(EXPECTED_EXAMPLE_FINDINGS))
def test_each_example_policy_gets_the_findings_docs_lint_md_lists(name: str) -> None:
    report = lint(*load_with_source(EXAMPLES / name))
    assert sorted(codes(report)) == EXPECTED_EXAMPLE_FINDINGS[name]


def test_ai_agency_silences_its_deliberate_resolution_targets_with_a_reason() -> None:
    report = lint(*load_with_source(EXAMPLES / "ai-agency.yaml"))
    assert [item.finding.code for item in report.silenced] == ["SLA005"] * 3
    assert all("resolution_definition" in item.reason for item in report.silenced)


# --------------------------------------------------------------------------- seed 004 rules
def test_uptime_promised_with_no_covered_service_is_sla001() -> None:
    report = lint_text(clean_with(("scope:\n  covered: [The public REST API]\n", "")))
    finding = only(report, "SLA001")
    assert finding.key == "plans[1].uptime.target"
    assert "99.9 %" in finding.message


def test_uptime_of_components_nobody_describes_is_sla002() -> None:
    report = lint_text(
        clean_with(
            ("    description: The public REST API.\n", ""),
            ("      definition: The API answers without 5xx errors.\n", ""),
        )
    )
    assert only(report, "SLA002").key == "plans[1].uptime.definition"


def test_a_component_description_is_enough_to_describe_the_measurement() -> None:
    report = lint_text(clean_with(("      definition: The API answers without 5xx errors.\n", "")))
    assert "SLA002" not in codes(report)


def test_support_targets_without_enhancement_or_change_order_are_sla003() -> None:
    report = lint_text(
        clean_with(
            ("    enhancement: [feature-request]\n", ""),
            (
                "  change_order:\n    threshold: 4h\n"
                "    description: Work over 4 hours is a change order.\n",
                "",
            ),
        )
    )
    assert only(report, "SLA003").key == "support.request_types.enhancement"


def test_a_change_order_alone_separates_support_from_enhancement() -> None:
    report = lint_text(clean_with(("    enhancement: [feature-request]\n", "")))
    assert "SLA003" not in codes(report)


@pytest.mark.parametrize("description", ["Critical.", "P1", "Very bad.", "  "])
def test_a_severity_defined_by_its_name_or_two_words_is_sla004(description: str) -> None:
    report = lint_text(
        clean_with(
            ("description: The API is down for every customer.", f"description: '{description}'")
        )
    )
    finding = only(report, "SLA004")
    assert finding.key == "severities[0].description"


def test_resolution_targets_next_to_a_third_party_exclusion_are_sla005() -> None:
    report = lint_text(
        clean_with(
            (
                "\nexclusions:\n",
                "\nexclusions:\n  - category: third-party\n    description: Vendor failures.\n",
            )
        )
    )
    keys = [finding.key for finding in report.findings if finding.code == "SLA005"]
    assert keys == [f"support.targets[{index}].resolution" for index in range(3)]


def test_a_component_run_by_a_third_party_also_makes_resolution_sla005() -> None:
    report = lint_text(
        clean_with(("    description: The public REST API.\n", "    third_party: Clerk\n"))
    )
    assert codes(report).count("SLA005") == 3
    assert "Clerk" in report.findings[0].message


def test_best_effort_resolution_is_no_guarantee_and_not_sla005() -> None:
    text = clean_with(
        ("\nexclusions:\n", "\nexclusions:\n  - {category: third-party, description: Vendors.}\n"),
        ("response: 1h, resolution: 8h", "response: 1h, resolution: best-effort"),
        ("response: 4h, resolution: 2d", "response: 4h"),
        ("resolution: {business_days: 5}, ", ""),
    )
    assert "SLA005" not in codes(lint_text(text))


def test_no_client_responsibilities_is_sla006_without_a_line() -> None:
    report = lint_text(
        clean_with(("customer_responsibilities:\n  - Name a technical contact\n", ""))
    )
    finding = only(report, "SLA006")
    assert finding.key == "customer_responsibilities"
    assert finding.line is None


def test_no_metrics_and_no_reports_are_two_sla007_findings() -> None:
    report = lint_text(
        clean_with(
            (
                "  metrics: [API availability]\n  reports: [Monthly SLA report]\n",
                "  cadence: monthly\n",
            )
        )
    )
    assert sorted(f.key for f in report.findings) == ["reporting.metrics", "reporting.reports"]
    assert set(codes(report)) == {"SLA007"}


def test_a_status_page_is_a_report_the_customer_gets() -> None:
    report = lint_text(
        clean_with(("  reports: [Monthly SLA report]\n", "  status_page: https://status.example\n"))
    )
    assert report.findings == ()


# --------------------------------------------------------------------------- consistency rules
def test_an_availability_slo_below_the_sla_target_is_an_sla010_error() -> None:
    report = lint_text(clean_with(("objective: 99.95", "objective: 99.5")))
    finding = only(report, "SLA010")
    assert finding.level is Level.ERROR
    assert "plan 'business'" in finding.message


def test_an_slo_equal_to_the_sla_target_is_not_looser() -> None:
    assert lint_text(clean_with(("objective: 99.95", "objective: 99.9"))).findings == ()


def test_an_slo_on_another_kind_than_availability_is_not_compared() -> None:
    text = clean_with(
        (
            "sli: {kind: availability, component: api}",
            "sli: {kind: latency, component: api, threshold: 1s}",
        ),
        ("objective: 99.95", "objective: 95"),
    )
    assert lint_text(text).findings == ()


def test_resolution_due_before_response_in_the_same_hours_is_an_sla011_error() -> None:
    report = lint_text(clean_with(("response: 1h, resolution: 8h", "response: 8h, resolution: 1h")))
    finding = only(report, "SLA011")
    assert finding.level is Level.ERROR
    assert finding.key == "support.targets[0].resolution"
    assert "support.targets[0].response" in finding.message


def test_fewer_business_days_to_resolve_than_to_respond_is_sla011() -> None:
    report = lint_text(
        clean_with(
            (
                "response: {business_days: 1}, resolution: {business_days: 5}",
                "response: {business_days: 3}, resolution: {business_days: 2}",
            )
        )
    )
    assert only(report, "SLA011").key == "support.targets[2].resolution"


def test_hours_and_business_days_in_different_calendars_are_not_compared() -> None:
    report = lint_text(
        clean_with(
            (
                "response: {business_days: 1}, resolution: {business_days: 5}, calendar: office",
                "response: 48h, calendar: 24x7}\n    - {severity: p3, plans: [business], "
                "resolution: {business_days: 1}, calendar: office",
            )
        )
    )
    assert report.findings == ()


def test_credits_to_claim_with_no_written_window_are_sla012() -> None:
    report = lint_text(
        clean_with(("claim: {window_days: 30, after: period-end}", "claim: {after: period-end}"))
    )
    finding = only(report, "SLA012")
    assert finding.key == "plans[1].credits.claim"
    assert "30 days after the end of the period" in finding.message


def test_credits_applied_without_a_claim_need_no_window() -> None:
    text = clean_with(("claim: {window_days: 30, after: period-end}", "claim: {required: false}"))
    assert lint_text(text).findings == ()


@pytest.mark.parametrize(("notice", "flagged"), [("12h", True), ("23h59m", True), ("24h", False)])
def test_maintenance_notice_under_24_hours_is_sla013(notice: str, flagged: bool) -> None:
    report = lint_text(clean_with(("min_notice: 48h", f"min_notice: {notice}")))
    assert ("SLA013" in codes(report)) is flagged


def test_a_plan_paying_credits_with_no_exclusions_is_sla014() -> None:
    report = lint_text(
        clean_with(
            ("    exclusions:\n      honoured: [scheduled-maintenance, customer-caused]\n", "")
        )
    )
    assert only(report, "SLA014").key == "plans[1].exclusions.honoured"


def test_a_best_effort_plan_listing_a_data_loss_credit_is_sla015() -> None:
    report = lint_text(
        clean_with(
            (
                "credits: {schedule: {type: none}}",
                "credits: {schedule: {type: none}, data_loss: {}, cap_percent: 10}",
            )
        )
    )
    keys = [finding.key for finding in report.findings if finding.code == "SLA015"]
    assert keys == ["plans[0].credits.data_loss", "plans[0].credits.cap_percent"]


def test_a_severity_ladder_missing_a_number_is_sla016() -> None:
    report = lint_text(clean_with(("{id: p3,", "{id: p4,"), ("{severity: p3,", "{severity: p4,")))
    finding = only(report, "SLA016")
    assert finding.key == "severities[2].id"
    assert "'p3'" in finding.message


def test_a_severity_ladder_starting_at_two_skips_one() -> None:
    text = clean_with(("{id: p1,", "{id: p4,"), ("{severity: p1,", "{severity: p4,"))
    assert "'p1'" in only(lint_text(text), "SLA016").message


# --------------------------------------------------------------------------- silencing
SILENCE = "\nlint:\n  silence:\n"


def test_a_silence_with_a_reason_moves_the_finding_to_silenced() -> None:
    text = (
        clean_with(("min_notice: 48h", "min_notice: 12h"))
        + SILENCE
        + ("    - {code: SLA013, key: maintenance.min_notice, reason: Our customers agreed.}\n")
    )
    report = lint_text(text)
    assert report.findings == ()
    assert report.exit_code == 0
    assert [item.finding.code for item in report.silenced] == ["SLA013"]
    assert report.silenced[0].reason == "Our customers agreed."
    assert "1 silenced" in report.summary()


def test_a_silence_covers_the_keys_under_its_key() -> None:
    text = clean_with(
        ("\nexclusions:\n", "\nexclusions:\n  - {category: third-party, description: V.}\n")
    )
    text += SILENCE + "    - {code: SLA005, key: support.targets, reason: Every fix is in-house.}\n"
    report = lint_text(text)
    assert report.findings == ()
    assert len(report.silenced) == 3


def test_a_silence_key_matches_whole_keys_not_prefixes_of_words() -> None:
    text = clean_with(("customer_responsibilities:\n  - Name a technical contact\n", ""))
    text += SILENCE + "    - {code: SLA006, key: customer, reason: Not a real key.}\n"
    assert sorted(codes(lint_text(text))) == ["SLA006", "SLA091"]


def test_a_silence_of_another_code_leaves_the_finding_and_is_itself_reported() -> None:
    text = clean_with(("min_notice: 48h", "min_notice: 12h"))
    text += SILENCE + "    - {code: SLA014, key: maintenance.min_notice, reason: Wrong code.}\n"
    report = lint_text(text)
    assert sorted(codes(report)) == ["SLA013", "SLA091"]
    assert only(report, "SLA091").key == "lint.silence[0].key"


def test_a_silence_of_an_unknown_code_is_an_sla090_error() -> None:
    report = lint_text(CLEAN + SILENCE + "    - {code: SLA999, key: plans, reason: Typo.}\n")
    assert only(report, "SLA090").level is Level.ERROR


def test_a_silence_without_a_reason_is_a_policy_error_with_its_line() -> None:
    text = CLEAN + SILENCE + "    - {code: SLA013, key: maintenance.min_notice}\n"
    with pytest.raises(PolicyError) as caught:
        lint_text(text)
    problem = caught.value.problems[0]
    assert problem.key == "lint.silence[0].reason"
    assert problem.line == text.count("\n")
    assert "required" in problem.message


def test_a_blank_reason_is_refused_with_a_message_that_says_why() -> None:
    text = CLEAN + SILENCE + "    - {code: SLA013, key: maintenance.min_notice, reason: '  '}\n"
    with pytest.raises(PolicyError) as caught:
        lint_text(text)
    assert "a silence needs a reason" in caught.value.problems[0].message


def test_exit_code_is_1_with_warnings_only() -> None:
    report = lint_text(clean_with(("min_notice: 48h", "min_notice: 12h")))
    assert (report.errors, report.warnings, report.exit_code) == (0, 1, 1)


# --------------------------------------------------------------------------- the command
def slakeeper(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["slakeeper", *args])
    with pytest.raises(SystemExit) as exited:
        run()
    return int(exited.value.code or 0)


def test_lint_command_prints_file_line_code_and_key_and_exits_2_on_an_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    file = str(EXAMPLES / "opsmantik.yaml")
    assert slakeeper(monkeypatch, "policy", "lint", file) == 2
    out = capsys.readouterr().out.splitlines()
    assert f"{file}:103:5: SLA010 error slos[0].objective: internal SLO" in out[0]
    assert out[-1] == f"{file}: 1 error, 2 warnings, 0 silenced"


def test_lint_command_exits_1_with_warnings_and_0_when_clean(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert slakeeper(monkeypatch, "policy", "lint", str(EXAMPLES / "trulayer.yaml")) == 1
    assert slakeeper(monkeypatch, "policy", "lint", str(FIXTURES / "clean.yaml")) == 0
    assert capsys.readouterr().out.strip().endswith("0 errors, 0 warnings, 0 silenced")


def test_lint_command_json_lists_findings_and_silenced_per_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [str(EXAMPLES / "ai-agency.yaml"), str(EXAMPLES / "opsmantik.yaml")]
    assert slakeeper(monkeypatch, "policy", "lint", "--format", "json", *files) == 2
    agency, opsmantik = json.loads(capsys.readouterr().out)
    assert agency["findings"] == []
    assert {item["code"] for item in agency["silenced"]} == {"SLA005"}
    slo = next(item for item in opsmantik["findings"] if item["code"] == "SLA010")
    assert slo == slo | {"severity": "error", "key": "slos[0].objective", "line": 103}


def test_lint_command_reports_an_invalid_policy_as_one_line_errors_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: slakeeper/v1\nkind: Policy\n", encoding="utf-8")
    assert slakeeper(monkeypatch, "policy", "lint", str(broken)) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors
    assert all(line.startswith(f"error: {broken}") for line in errors)
    assert "Traceback" not in "\n".join(errors)


# --------------------------------------------------------------------------- the docs
def test_every_lint_code_is_documented_in_docs_lint_md_and_every_documented_code_exists() -> None:
    text = (ROOT / "docs" / "lint.md").read_text(encoding="utf-8")
    documented = re.findall(r"^### (SLA\d{3}) (.+)$", text, flags=re.MULTILINE)
    assert [code for code, _ in documented] == [rule.code for rule in RULES]
    assert [title for _, title in documented] == [rule.title for rule in RULES]
    for code, _ in documented:
        body = text.split(f"### {code} ", 1)[1].split("\n### ", 1)[0]
        for part in ("**What.**", "**Why.**", "**Fix.**"):
            assert part in body, f"{code} has no {part}"
