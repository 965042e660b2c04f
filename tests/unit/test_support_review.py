"""The SLA review: attainment, nearest-rank percentiles, shares and plain-language findings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from conftest import EXAMPLES, ROOT
from slakeeper.domain.calendars import Calendar
from slakeeper.domain.support import ClockTarget, EventKind, TicketClocks, TicketEvent, replay
from slakeeper.policy.loader import load_policy_file
from slakeeper.services.support_clocks import support_clocks
from slakeeper.services.support_review import (
    FindingThresholds,
    ReviewTicket,
    nearest_rank,
    percent_text,
    review,
    review_json,
    review_table,
)
from slakeeper.services.ticket_import import parse_csv

ROUND_THE_CLOCK = Calendar("24x7", "UTC", always_open=True)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)
WAITING = "waiting-on-customer"


def targets(severity: str) -> tuple[ClockTarget, ClockTarget]:
    response = HOUR if severity == "p1" else 4 * HOUR
    return (
        ClockTarget(response, None, ROUND_THE_CLOCK),
        ClockTarget(8 * HOUR, None, ROUND_THE_CLOCK),
    )


def clocks(
    day: int,
    respond_minutes: int | None,
    resolve_minutes: int | None = None,
    *,
    severity: str = "p1",
    paused_minutes: int = 0,
    hour: int = 0,
) -> TicketClocks:
    opened = START + timedelta(days=day - 1, hours=hour)
    events = [TicketEvent(opened, EventKind.OPENED, severity=severity)]
    if respond_minutes is not None:
        events.append(TicketEvent(opened + respond_minutes * MINUTE, EventKind.RESPONDED))
    if paused_minutes:
        pause = opened + 30 * MINUTE
        events.append(TicketEvent(pause, EventKind.STATUS_CHANGED, status=WAITING))
        events.append(TicketEvent(pause + paused_minutes * MINUTE, EventKind.CUSTOMER_REPLIED))
    if resolve_minutes is not None:
        events.append(TicketEvent(opened + resolve_minutes * MINUTE, EventKind.RESOLVED))
    return replay(
        events,
        now=END,
        targets=targets,
        paused_statuses={WAITING},
        warning_fraction=Fraction(3, 4),
    )


def ticket(
    number: int,
    result: TicketClocks,
    *,
    request_type: str = "incident",
    plan: str = "pro",
    enhancement: bool = False,
) -> ReviewTicket:
    return ReviewTicket(
        f"T-{number}", "acme", plan, result.severity, request_type, enhancement, result
    )


def test_percentages_round_half_up_to_one_decimal() -> None:
    assert percent_text(Fraction(7, 12)) == "58.3"
    assert percent_text(Fraction(1, 16)) == "6.3"  # 6.25 rounds up
    assert percent_text(Fraction(1)) == "100.0"


def test_percentiles_are_nearest_rank() -> None:
    values = [n * MINUTE for n in range(10, 0, -1)]
    assert nearest_rank(values, 50) == 5 * MINUTE  # the lower median of an even count
    assert nearest_rank(values, 90) == 9 * MINUTE
    assert nearest_rank(values[:1], 90) == 10 * MINUTE
    assert nearest_rank([n * MINUTE for n in range(1, 21)], 90) == 18 * MINUTE


def test_attainment_median_and_p90_per_severity_plan_and_clock() -> None:
    # P1, 1 h response: 30, 40, 50 and 70 minutes, and one never answered.
    tickets = [
        ticket(n, clocks(n, minutes, 120))
        for n, minutes in enumerate([30, 40, 50, 70, None], start=1)
    ]
    result = review(tickets, period_start=START, period_end=END)
    response, resolution = result.rows
    assert (response.severity, response.plan, response.clock) == ("p1", "pro", "response")
    assert (response.decided, response.met, response.breached, response.running) == (5, 3, 2, 0)
    assert response.attainment == Fraction(3, 5)
    assert response.stopped == 5  # a resolution without a response stops the response clock
    assert response.median == 50 * MINUTE
    assert response.p90 == 120 * MINUTE
    assert (response.target_low, response.target_high) == (HOUR, HOUR)
    assert (resolution.decided, resolution.met, resolution.median) == (5, 5, 120 * MINUTE)
    assert resolution.median_share == Fraction(1, 4)


def test_low_attainment_is_a_finding_only_with_enough_decided_clocks() -> None:
    tickets = [ticket(n, clocks(n, m, 120)) for n, m in enumerate([30, 70, 80, 90, 40], start=1)]
    result = review(tickets, period_start=START, period_end=END)
    assert [f.code for f in result.findings] == ["low-attainment"]
    assert result.findings[0].message == (
        "p1 response on pro met 40.0 % of the time (2 of 5): "
        "the target or the staffing is unrealistic"
    )
    fewer = review(tickets[:4], period_start=START, period_end=END)
    assert fewer.findings == ()


def test_a_median_far_under_the_target_suggests_a_tighter_target() -> None:
    tickets = [ticket(n, clocks(n, 10, 60, severity="p2")) for n in range(1, 6)]
    result = review(tickets, period_start=START, period_end=END)
    assert [str(finding) for finding in result.findings] == [
        "median p2 response on pro is 4.2 % of the target: the target could be tighter",
        "median p2 resolution on pro is 12.5 % of the target: the target could be tighter",
    ]
    assert {finding.code for finding in result.findings} == {"fast-median"}


def test_tuning_volume_and_enhancement_share_findings() -> None:
    kinds = ["minor-tuning"] * 4 + ["incident"] * 4 + ["net-new-feature"] * 2
    tickets = [
        ticket(n, clocks(n, 10, 30), request_type=kind, enhancement=kind == "net-new-feature")
        for n, kind in enumerate(kinds, start=1)
    ]
    result = review(tickets, period_start=START, period_end=END)
    messages = [f.message for f in result.findings]
    assert "minor-tuning requests are 40.0 % of volume: consider pricing them" in messages
    assert "enhancements are 20.0 % of requests: check clients understand what is covered" in (
        messages
    )
    assert result.by_type == (("incident", 4), ("minor-tuning", 4), ("net-new-feature", 2))
    assert (result.enhancements, result.enhancement_share) == (2, Fraction(1, 5))
    assert sum(row.clocks for row in result.rows if row.clock == "response") == 8
    stricter = FindingThresholds(tuning_share_percent=Fraction(41))
    assert not any(
        f.code == "tuning-volume"
        for f in review(
            tickets, period_start=START, period_end=END, findings_thresholds=stricter
        ).findings
    )


def test_only_tickets_opened_in_the_period_count() -> None:
    inside = ticket(1, clocks(1, 10))
    before = ReviewTicket("T-0", "acme", "pro", "p1", "incident", False, clocks(-3, 10))
    result = review([inside, before], period_start=START, period_end=END)
    assert result.requests == 1
    with pytest.raises(ValueError, match="must end after it starts"):
        review([], period_start=END, period_end=START)


def test_paused_time_and_running_clocks_are_reported() -> None:
    waiting = ticket(1, clocks(1, 10, 300, paused_minutes=90))
    open_one = ticket(2, clocks(31, 10, severity="p2", hour=20))
    result = review([waiting, open_one], period_start=START, period_end=END)
    assert result.paused == 90 * MINUTE
    rows = {(row.severity, row.clock): row for row in result.rows}
    assert rows["p1", "resolution"].paused == 90 * MINUTE
    assert rows["p1", "resolution"].median == 210 * MINUTE
    assert rows["p2", "resolution"].running == 1
    assert rows["p2", "resolution"].median is None


def test_best_effort_clocks_and_enhancements_have_no_target_row() -> None:
    no_target = replay(
        [TicketEvent(START, EventKind.OPENED, severity="p1")],
        now=END,
        targets=lambda _: (ClockTarget.best_effort(ROUND_THE_CLOCK),) * 2,
        paused_statuses=(),
        warning_fraction=Fraction(3, 4),
    )
    result = review(
        [ticket(1, no_target), ticket(2, clocks(2, 10), enhancement=True)],
        period_start=START,
        period_end=END,
    )
    assert result.rows == ()
    assert result.requests == 2


def test_json_is_stable_with_strings_for_numbers() -> None:
    tickets = [ticket(n, clocks(n, 30 + n, 90)) for n in range(1, 4)]
    document = review_json(review(tickets, period_start=START, period_end=END))
    assert document["period"] == {"start": "2026-03-01T00:00:00Z", "end": "2026-04-01T00:00:00Z"}
    assert document["percentile_method"] == "nearest-rank"
    row = document["targets"][0]  # type: ignore[index]
    assert row == {
        "severity": "p1",
        "plan": "pro",
        "clock": "response",
        "calendar": "24x7",
        "target_seconds": {"low": "3600", "high": "3600"},
        "clocks": 3,
        "decided": 3,
        "met": 3,
        "breached": 0,
        "running": 0,
        "stopped": 3,
        "attainment_percent": "100.0",
        "median_seconds": "1920",
        "p90_seconds": "1980",
        "median_share_percent": "53.3",
        "paused_seconds": "0",
    }
    assert document["enhancements"] == {"count": 0, "percent": "0.0"}


def test_the_sample_csv_reviews_into_a_table_with_findings() -> None:
    policy = load_policy_file(EXAMPLES / "generic-saas.yaml").policy
    imported = parse_csv((ROOT / "examples/tickets/generic-saas-2026.csv").read_text(), policy)
    engine = support_clocks(policy)
    now = datetime(2027, 1, 1, tzinfo=UTC)
    tickets = [
        ReviewTicket(
            row.id,
            row.customer,
            row.plan or "-",
            row.severity,
            row.request_type,
            engine.is_enhancement(row.request_type),
            engine.replay(row, now=now),
        )
        for row in imported.rows
    ]
    result = review(
        tickets,
        period_start=datetime(2026, 1, 1, tzinfo=UTC),
        period_end=now,
        severity_order=[severity.id for severity in policy.severities],
    )
    assert result.requests == 41
    assert [row.severity for row in result.rows][:3] == ["urgent"] * 3
    launch_normal = next(
        row for row in result.rows if (row.severity, row.plan) == ("normal", "launch")
    )
    assert launch_normal.target_low < launch_normal.target_high  # next business day varies
    text = review_table(result)
    assert "Requests by type" in text
    assert "tuning requests are 36.6 % of volume: consider pricing them" in text
    assert "normal response on launch met 55.6 % of the time (5 of 9)" in text
