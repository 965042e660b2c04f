"""The ``slakeeper`` command as a person runs it: real process, real files."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import EXAMPLES, slakeeper_command

SAAS = str(EXAMPLES / "generic-saas.yaml")


def slakeeper(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*slakeeper_command(), *args], capture_output=True, text=True, check=False
    )


def test_policy_check_prints_one_line_per_valid_file() -> None:
    files = sorted(str(path) for path in EXAMPLES.glob("*.yaml"))
    result = slakeeper("policy", "check", *files)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(files)
    assert all(": ok (" in line for line in lines)


def test_policy_check_lists_every_problem_and_exits_1(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        (EXAMPLES / "trulayer.yaml")
        .read_text(encoding="utf-8")
        .replace(
            "measured_on: [ingest-api, dashboard]\n      decimals: 3",
            "measured_on: [ingest]\n      decimals: 3",
        )
        .replace("min_notice: 48h", "min_notice: 48 hours"),
        encoding="utf-8",
    )
    result = slakeeper("policy", "check", str(broken))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = result.stderr.strip().splitlines()
    assert any("min_notice" in line and "not a duration" in line for line in errors), errors
    assert all(line.startswith(f"error: {broken}:") for line in errors)


def test_policy_check_json_reports_problems_with_lines(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: slakeeper/v2\nkind: Policy\n", encoding="utf-8")
    result = slakeeper("policy", "check", "--format", "json", str(broken))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    problems = report[0]["problems"]
    version = next(problem for problem in problems if problem["key"] == "apiVersion")
    assert version["line"] == 1
    assert "expected 'slakeeper/v1'" in version["message"]
    assert any(problem["key"] == "metadata" for problem in problems)


def test_policy_explain_shows_targets_allowed_downtime_credits_and_support() -> None:
    result = slakeeper("policy", "explain", SAAS)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "Uptime target: 99.99 % monthly" in text
    assert "30 days: 4 min 19.2 s" in text
    assert "99.9 % <= uptime < 99.99 %" in text
    assert "cap 50 % per period" in text
    assert "Urgent" in text
    assert "Mon-Fri 09:00-18:00 America/New_York" in text


def test_policy_schema_is_json_schema_with_the_top_level_keys() -> None:
    result = slakeeper("policy", "schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert {"apiVersion", "kind", "metadata", "plans"} <= set(schema["properties"])
    assert "Plan" in schema["$defs"]


def test_calendar_due_across_a_weekend_and_a_dst_change() -> None:
    # Friday 2026-03-06 17:00 EST; 1 h left that day, 3 h 30 min on Monday 2026-03-09 (EDT).
    result = slakeeper(
        "calendar", "due", "--policy", SAAS, "--calendar", "business-hours",
        "--start", "2026-03-06T22:00:00Z", "--duration", "4h30m",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2026-03-09T16:30:00Z"


def test_calendar_due_skips_a_pause_and_prints_json() -> None:
    result = slakeeper(
        "calendar", "due", "--policy", SAAS, "--calendar", "business-hours",
        "--start", "2026-03-09T13:00:00Z", "--duration", "2h",
        "--pause", "2026-03-09T14:00:00Z/2026-03-09T15:00:00Z", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["due"] == "2026-03-09T16:00:00Z"


def test_calendar_elapsed_counts_open_seconds() -> None:
    result = slakeeper(
        "calendar", "elapsed", "--policy", SAAS, "--calendar", "business-hours",
        "--start", "2026-03-06T22:00:00Z", "--end", "2026-03-09T18:00:00Z",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(3600 + 5 * 3600)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--calendar", "business", "--start", "2026-03-06T22:00:00Z"), "did you mean"),
        (("--calendar", "business-hours", "--start", "2026-03-06T22:00:00"), "no UTC offset"),
        (("--calendar", "business-hours", "--start", "yesterday"), "not an RFC 3339 instant"),
    ],
)
def test_calendar_errors_are_one_line(args: tuple[str, ...], fragment: str) -> None:
    result = slakeeper("calendar", "due", "--policy", SAAS, "--duration", "1h", *args)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert fragment in result.stderr


def test_a_missing_policy_file_is_one_line() -> None:
    result = slakeeper("policy", "explain", "/nonexistent/policy.yaml")
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "error: /nonexistent/policy.yaml: cannot read: No such file or directory"
    )
