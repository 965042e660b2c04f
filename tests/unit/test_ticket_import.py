"""CSV import of past support requests: the documented columns, help-desk exports, every problem."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES, ROOT, scaled
from slakeeper.domain.support import ClockState, EventKind
from slakeeper.policy import models as pm
from slakeeper.policy.loader import load_policy_file
from slakeeper.services.support_clocks import support_clocks
from slakeeper.services.ticket_import import (
    COLUMN_ALIASES,
    ImportResult,
    RowProblem,
    parse_csv,
)

GENERIC = load_policy_file(EXAMPLES / "generic-saas.yaml").policy
AGENCY = load_policy_file(EXAMPLES / "ai-agency.yaml").policy
SAMPLE = ROOT / "examples" / "tickets" / "generic-saas-2026.csv"
HEADER = "id,customer,severity,type,opened_at,first_response_at,resolved_at,paused_from,paused_to"


def parse(*rows: str, header: str = HEADER, policy: pm.Policy = GENERIC) -> ImportResult:
    return parse_csv("\n".join([header, *rows]) + "\n", policy)


def only_problem(result: ImportResult) -> RowProblem:
    assert len(result.problems) == 1, result.problems
    return result.problems[0]


# -- the happy paths ---------------------------------------------------------------------------
def test_the_sample_csv_imports_cleanly_and_replays() -> None:
    result = parse_csv(SAMPLE.read_text(encoding="utf-8"), GENERIC)
    assert result.problems == []
    assert len(result.rows) == 41
    assert {row.plan for row in result.rows} == {"developer", "launch", "business", "enterprise"}
    clocks = support_clocks(GENERIC)
    states = [
        clocks.replay(row, now=datetime(2027, 1, 1, tzinfo=UTC)).response.state
        for row in result.rows
    ]
    assert states.count(ClockState.NO_TARGET) == 4  # the Developer plan is best effort
    assert states.count(ClockState.BREACHED) >= 10
    assert states.count(ClockState.MET) >= 20


def test_a_row_becomes_opened_pause_response_and_resolution_events() -> None:
    result = parse(
        "T-1,acme,Sev-1,incident,2026-04-03T16:00:00-04:00,2026-04-03T16:20:00-04:00,"
        "2026-04-06T12:00:00-04:00,2026-04-03T17:00:00-04:00,2026-04-06T09:00:00-04:00"
    )
    (ticket,) = result.rows
    assert (ticket.id, ticket.customer, ticket.severity, ticket.request_type) == (
        "T-1",
        "acme",
        "urgent",
        "incident",
    )
    assert [(e.kind, e.status) for e in ticket.events] == [
        (EventKind.OPENED, None),
        (EventKind.RESPONDED, None),
        (EventKind.STATUS_CHANGED, "waiting-on-customer"),
        (EventKind.STATUS_CHANGED, "open"),
        (EventKind.RESOLVED, None),
    ]
    assert ticket.events[0].severity == "urgent"
    assert ticket.events[0].at == datetime(2026, 4, 3, 20, tzinfo=UTC)


def test_more_pauses_come_as_numbered_columns_and_an_open_pause_is_still_waiting() -> None:
    header = "id,customer,severity,opened_at,paused_from,paused_to,paused_from_2,paused_to_2"
    result = parse(
        "T-1,acme,urgent,2026-01-05T09:00Z,2026-01-05T10:00Z,2026-01-05T11:00Z,2026-01-05T12:00Z,",
        header=header,
    )
    (ticket,) = result.rows
    assert [e.status for e in ticket.events[1:]] == [
        "waiting-on-customer",
        "open",
        "waiting-on-customer",
    ]
    assert ticket.request_type == "unspecified"
    assert ticket.plan is None


def test_the_policy_pause_status_is_used_and_clocks_pause_over_the_weekend() -> None:
    header = "id,customer,plan,severity,type,opened_at,paused_from,paused_to"
    result = parse(
        "A-1,acme,standard,critical,incident,2026-01-09T16:00:00-05:00,"
        "2026-01-09T16:30:00-05:00,2026-01-12T10:00:00-05:00",
        header=header,
        policy=AGENCY,
    )
    (ticket,) = result.rows
    clocks = support_clocks(AGENCY).replay(ticket, now=datetime(2026, 1, 12, 16, tzinfo=UTC))
    assert clocks.resolution[0].paused == timedelta(minutes=30 + 60)  # business hours end at 17
    assert clocks.resolution[0].elapsed == timedelta(minutes=30 + 60)


def test_a_help_desk_export_is_read_through_the_mapping() -> None:
    policy = GENERIC.model_copy(
        update={
            "severities": [
                GENERIC.severities[0].model_copy(update={"aliases": ["High", "P0"]}),
                GENERIC.severities[1].model_copy(update={"aliases": ["Low"]}),
            ]
        }
    )
    header = (
        "Ticket ID,Subject,Requester,Organization,Priority,Type,Created at,"
        "First reply time in minutes,Solved at,Satisfaction"
    )
    result = parse(
        "4711,Login broken,jo@acme.test,Acme Corp,Urgent,Incident,2026-01-05 09:00:00 -0500,"
        "45,2026-01-05 11:00:00 -0500,good",
        "4712,Typo,al@initech.test,Initech,Low,Question,2026-01-06T10:00:00Z,-,-,-",
        "4713,Slow,al@initech.test,Initech,high,Minor tuning,2026-01-06T10:00:00Z,"
        "2026-01-06T10:30:00Z,,",
        header=header,
        policy=policy,
    )
    assert result.problems == []
    first, second, third = result.rows
    assert (first.id, first.customer, first.severity, first.request_type) == (
        "4711",
        "Acme Corp",
        "urgent",
        "incident",
    )
    responded = [e.at for e in first.events if e.kind is EventKind.RESPONDED]
    assert responded == [datetime(2026, 1, 5, 14, 45, tzinfo=UTC)]
    assert [e.kind for e in second.events] == [EventKind.OPENED]
    assert second.severity == "normal"
    assert (third.severity, third.request_type) == ("urgent", "minor-tuning")


def test_the_mapping_table_lists_each_canonical_column_first() -> None:
    for canonical, aliases in COLUMN_ALIASES.items():
        assert aliases[0] == canonical.replace("_", " ")


def test_a_byte_order_mark_and_blank_lines_are_ignored() -> None:
    text = "\ufeff" + HEADER + "\n\nT-1,acme,urgent,incident,2026-01-05T09:00Z,,,,\n\n"
    assert len(parse_csv(text, GENERIC).rows) == 1


# -- every problem -----------------------------------------------------------------------------
def test_an_empty_file_is_one_problem() -> None:
    assert only_problem(parse_csv("", GENERIC)).message.startswith("the file is empty")


def test_a_missing_required_column_stops_the_import() -> None:
    result = parse("T-1,urgent,2026-01-05T09:00Z", header="id,severity,opened_at")
    problem = only_problem(result)
    assert (problem.row_number, problem.column) == (1, "customer")
    assert "missing required column 'customer'" in problem.message
    assert "'organization'" in problem.message
    assert result.rows == []


def test_a_misspelt_documented_column_is_reported() -> None:
    header = "id,customer,severity,opened_at,first_respons_at"
    problem = only_problem(parse("T-1,acme,urgent,2026-01-05T09:00Z,", header=header))
    assert problem.row_number == 1
    assert "did you mean 'first_response_at'" in problem.message


def test_a_pause_end_column_without_its_start_is_reported() -> None:
    header = "id,customer,severity,opened_at,paused_to_2"
    problem = only_problem(parse("T-1,acme,urgent,2026-01-05T09:00Z,", header=header))
    assert (problem.column, problem.message) == (
        "paused_to_2",
        "has no matching 'paused_from_2' column",
    )


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (",acme,urgent,incident,2026-01-05T09:00Z,,,,", "id", "is empty"),
        ("T-1,,urgent,incident,2026-01-05T09:00Z,,,,", "customer", "is empty"),
        ("T-1,acme,,incident,2026-01-05T09:00Z,,,,", "severity", "is empty"),
        ("T-1,acme,urgent,incident,,,,,", "opened_at", "is empty"),
        ("T-1,acme,urgnet,incident,2026-01-05T09:00Z,,,,", "severity", "did you mean 'urgent'"),
        ("T-1,acme,urgent,incident,05/01/2026 09:00,,,,", "opened_at", "not an RFC 3339 instant"),
        ("T-1,acme,urgent,incident,2026-01-05T09:00:00,,,,", "opened_at", "has no UTC offset"),
        ("T-1,acme,urgent,incident,2026-02-30T09:00Z,,,,", "opened_at", "not a valid instant"),
        (
            "T-1,acme,urgent,incident,2026-01-05T09:00Z,2026-01-05T08:00Z,,,",
            "first_response_at",
            "before the request was opened",
        ),
        (
            "T-1,acme,urgent,incident,2026-01-05T09:00Z,,2026-01-04T09:00Z,,",
            "resolved_at",
            "before the request was opened",
        ),
        (
            "T-1,acme,urgent,incident,2026-01-05T09:00Z,,,2026-01-05T08:00Z,2026-01-05T10:00Z",
            "paused_from",
            "before the request was opened",
        ),
        (
            "T-1,acme,urgent,incident,2026-01-05T09:00Z,,2026-01-05T10:00Z,2026-01-05T11:00Z,",
            "paused_from",
            "not before the resolution",
        ),
        (
            "T-1,acme,urgent,incident,2026-01-05T09:00Z,,,2026-01-05T11:00Z,2026-01-05T10:00Z",
            "paused_to",
            "is not after paused_from",
        ),
        (
            "T-1,acme,urgent,incident,2026-01-05T09:00Z,,,,2026-01-05T10:00Z",
            "paused_from",
            "is empty but paused_to is set",
        ),
    ],
)
def test_each_unreadable_row_is_reported_with_its_column(
    row: str, column: str, message: str
) -> None:
    result = parse(row)
    problem = only_problem(result)
    assert (problem.row_number, problem.column) == (2, column)
    assert message in problem.message
    assert result.rows == []


def test_overlapping_pauses_are_reported() -> None:
    header = "id,customer,severity,opened_at,paused_from,paused_to,paused_from_2,paused_to_2"
    row = "T-1,acme,urgent,2026-01-05T09:00Z,2026-01-05T10:00Z,,2026-01-05T11:00Z,2026-01-05T12:00Z"
    problem = only_problem(parse(row, header=header))
    assert (problem.column, problem.message) == (
        "paused_from_2",
        "overlaps the pause in paused_from",
    )


def test_a_duplicate_id_is_reported_on_its_second_row() -> None:
    row = "T-1,acme,urgent,incident,2026-01-05T09:00Z,,,,"
    result = parse(row, row)
    problem = only_problem(result)
    assert (problem.row_number, problem.message) == (3, "duplicate id 'T-1' (first on row 2)")
    assert len(result.rows) == 1


def test_unknown_request_types_and_plans_are_reported_when_the_policy_lists_them() -> None:
    header = "id,customer,plan,severity,type,opened_at"
    result = parse(
        "A-1,acme,standrad,critical,incident,2026-01-05T09:00Z",
        "A-2,acme,standard,critical,minor tuning,2026-01-05T09:00Z",
        "A-3,acme,standard,critical,new-feature,2026-01-05T09:00Z",
        "A-4,acme,standard,critical,,2026-01-05T09:00Z",
        header=header,
        policy=AGENCY,
    )
    assert [row.id for row in result.rows] == ["A-2"]
    messages = [(p.row_number, p.column, p.message) for p in result.problems]
    assert messages[0][:2] == (2, "plan")
    assert "did you mean 'standard'" in messages[0][2]
    assert messages[1][:2] == (4, "type")
    assert "'new-feature' is neither covered nor an enhancement" in messages[1][2]
    assert "did you mean 'net-new-feature'" in messages[1][2]
    assert messages[2][:2] == (5, "type")
    assert "'unspecified'" in messages[2][2]


def test_a_first_reply_time_that_is_neither_minutes_nor_an_instant_is_reported() -> None:
    header = "Ticket ID,Organization,Priority,Created at,First reply time"
    problem = only_problem(parse("1,acme,urgent,2026-01-05T09:00Z,soon", header=header))
    assert (problem.column, problem.message) == (
        "First reply time",
        "'soon' is neither minutes nor an instant",
    )


def test_problems_render_as_one_line_each() -> None:
    assert str(RowProblem(4, "severity", "unknown severity 'x'")) == (
        "row 4: severity: unknown severity 'x'"
    )


CELLS = [
    "",
    "-",
    "T-1",
    "urgent",
    "P0",
    "incident",
    "2026-01-05T09:00Z",
    "2026-01-05 09:00:00 -0500",
    "2026-01-05T09:00:00",
    "0001-01-01T00:00+05:00",
    "9999-12-31T23:59Z",
    "2026-13-01T00:00Z",
    "45",
    "1e30",
    "NaN",
    '"a,b"',
]
HEADERS = [
    HEADER,
    "Ticket ID,Organization,Priority,Type,Created at,First reply time,Solved at",
    "id,customer,severity,opened_at,paused_to,paused_from_2,paused_to_2,first_respons_at",
]


@settings(max_examples=scaled(200), deadline=None)
@given(
    st.sampled_from(HEADERS),
    st.lists(st.lists(st.sampled_from(CELLS), max_size=10), max_size=6),
)
def test_no_row_ever_raises(header: str, rows: list[list[str]]) -> None:
    result = parse_csv("\n".join([header, *(",".join(row) for row in rows)]), GENERIC)
    assert all(problem.row_number >= 1 for problem in result.problems)
    for ticket in result.rows:
        assert ticket.events[0].kind is EventKind.OPENED


@settings(max_examples=scaled(100), deadline=None)
@given(st.lists(st.sampled_from([*',"\n\r-:TZ+0129abT_ \x00', HEADER, "opened_at", "P0"])))
def test_no_text_ever_raises(tokens: list[str]) -> None:
    assert isinstance(parse_csv("".join(tokens), GENERIC), ImportResult)
