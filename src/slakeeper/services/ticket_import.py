"""Import past support requests from CSV, and replay them on a policy's support clocks.

The documented columns (header row first; names are matched case-insensitively, and spaces,
``_`` and ``-`` are interchangeable)::

    id, customer, severity, type, opened_at, first_response_at, resolved_at,
    paused_from, paused_to, paused_from_2, paused_to_2, ...        (plan: optional)

``id``, ``customer``, ``severity`` and ``opened_at`` are required. Instants are RFC 3339 with an
offset (``2026-03-13T17:30:00-05:00``, ``...Z``; a space may replace the ``T`` and precede the
offset). A pause ``paused_from[_N]`` .. ``paused_to[_N]`` is time the request waited on the
customer; an empty ``paused_to`` means it was still waiting, and a resolution ends any pause.
A pause becomes a ``status-changed`` event to the policy's first ``support.pause_when`` status
(``waiting-on-customer`` when it names none, so the history is kept even if that policy pauses
no clock) and one back to ``open``. ``severity`` is resolved through the policy's ids, names and
aliases to a severity id. ``type`` is lower-cased with spaces as ``-`` (``Minor tuning`` is
``minor-tuning``) and must be one of the policy's covered or enhancement request types when the
policy lists any (without the column, the type is ``unspecified``). ``plan``, when present, must
be a plan id of the policy. Other columns are ignored, except that a snake_case header close to
a documented name is reported as a probable typo.

Help-desk exports are read through :data:`COLUMN_ALIASES`: the first alias present in the header
gives a column (so ``Organization`` wins over ``Requester``). ``-`` counts as an empty cell. A
``First reply time`` cell holding a bare number is minutes after creation (calendar time), as
help desks export it.

:func:`parse_csv` never raises on bad input: every row it cannot read is left out of the rows
and reported as a :class:`RowProblem` numbered as a spreadsheet numbers rows: the header is row
1 (unless blank lines come first), the first request row 2, and blank lines count. A dry run
is this function without storing anything.

:class:`SupportClocks` (:func:`support_clocks`) compiles what ``replay`` needs from a policy
once: the targets of a plan and severity, the paused statuses and the warning fraction.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from slakeeper.domain.support import EventKind, TicketEvent
from slakeeper.policy import models as pm
from slakeeper.policy.errors import did_you_mean, one_of

REQUIRED = ("id", "customer", "severity", "opened_at")
#: Canonical column -> accepted headers (normalised: lower case, single spaces), in priority order.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "ticket id", "ticket #", "ticket number", "issue key", "key"),
    "customer": ("customer", "organization", "organisation", "company", "account", "requester"),
    "severity": ("severity", "priority", "urgency"),
    "type": ("type", "request type", "ticket type", "issue type", "category"),
    "opened_at": ("opened at", "created at", "created", "date created", "created date"),
    "first_response_at": (
        "first response at",
        "first reply at",
        "first responded at",
        "first reply time",
        "first reply time in minutes",
    ),
    "resolved_at": ("resolved at", "solved at", "resolved", "solved", "closed at"),
    "plan": ("plan", "support plan"),
}
#: Headers whose cells may hold minutes after creation instead of an instant.
MINUTES_HEADERS = frozenset({"first reply time", "first reply time in minutes"})
UNSPECIFIED_TYPE = "unspecified"
DEFAULT_PAUSE_STATUS = "waiting-on-customer"
EXAMPLE_INSTANT = "2026-03-13T17:30:00-05:00"

_MAX_MINUTES = 10 * 366 * 24 * 60
_PAUSE = re.compile(r"^paused (from|to)(?: (\d+))?$")
_INSTANT = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?"
    r"(?: ?(?P<offset>[Zz]|[+-]\d{2}:?\d{2}))?$"
)


@dataclass(frozen=True)
class RowProblem:
    row_number: int
    column: str
    message: str

    def __str__(self) -> str:
        column = f" {self.column}:" if self.column else ""
        return f"row {self.row_number}:{column} {self.message}"


@dataclass(frozen=True)
class ImportedTicket:
    id: str
    customer: str
    severity: str  # the policy's severity id
    request_type: str
    events: list[TicketEvent]
    plan: str | None = None  # from the optional plan column
    row_number: int = 0


@dataclass(frozen=True)
class ImportResult:
    rows: list[ImportedTicket] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def normalise_header(header: str) -> str:
    return " ".join(re.split(r"[\s_\-]+", header.strip().lstrip("\ufeff").lower())).strip()


def parse_csv(text: str, policy: pm.Policy) -> ImportResult:
    """Every readable row as an :class:`ImportedTicket`, every unreadable one as problems."""
    lines = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        records = [(number, row) for number, row in enumerate(lines, start=1) if any(row)]
    except csv.Error as error:
        message = f"line {lines.line_num} is not readable CSV: {error}"
        return ImportResult([], [RowProblem(lines.line_num, "", message)])
    if not records:
        return ImportResult([], [RowProblem(1, "", "the file is empty: it needs a header row")])
    header_number, header = records[0]
    columns, pauses, problems = _header(header, header_number)
    if any(problem.column in REQUIRED for problem in problems):
        return ImportResult([], problems)
    reader = _RowReader(policy, columns, pauses)
    rows: list[ImportedTicket] = []
    seen: dict[str, int] = {}
    for number, record in records[1:]:
        ticket, row_problems = reader.read(number, record)
        if ticket is not None and ticket.id in seen:
            row_problems.append(
                RowProblem(
                    number,
                    columns["id"][1],
                    f"duplicate id '{ticket.id}' (first on row {seen[ticket.id]})",
                )
            )
        problems.extend(row_problems)
        if ticket is not None and not row_problems:
            seen[ticket.id] = number
            rows.append(ticket)
    return ImportResult(rows, problems)


def _header(
    header: list[str], number: int
) -> tuple[dict[str, tuple[int, str]], list[tuple[str, int, int | None]], list[RowProblem]]:
    """Canonical column -> (index, header as written); pauses as (label, from index, to index)."""
    normalised = [normalise_header(name) for name in header]
    columns: dict[str, tuple[int, str]] = {}
    problems: list[RowProblem] = []
    for canonical, aliases in COLUMN_ALIASES.items():
        for alias in aliases:
            if alias in normalised:
                index = normalised.index(alias)
                columns[canonical] = (index, header[index].strip().lstrip("\ufeff"))
                break
    for canonical in REQUIRED:
        if canonical not in columns:
            accepted = ", ".join(f"'{alias}'" for alias in COLUMN_ALIASES[canonical][1:])
            problems.append(
                RowProblem(
                    number,
                    canonical,
                    f"missing required column '{canonical}' (or one of {accepted})",
                )
            )
    pause_from: dict[int, int] = {}
    pause_to: dict[int, int] = {}
    known = set(COLUMN_ALIASES) | {"paused_from", "paused_to"}
    for index, name in enumerate(normalised):
        match = _PAUSE.match(name)
        if match:
            (pause_from if match[1] == "from" else pause_to)[int(match[2] or 1)] = index
        elif "_" in header[index] and not any(name in a for a in COLUMN_ALIASES.values()):
            hint = did_you_mean(header[index].strip(), known)
            if hint:
                problems.append(RowProblem(number, header[index], f"unknown column{hint}"))
    pauses: list[tuple[str, int, int | None]] = []
    for ordinal in sorted(set(pause_from) | set(pause_to)):
        label = "paused_from" if ordinal == 1 else f"paused_from_{ordinal}"
        if ordinal not in pause_from:
            to_label = label.replace("from", "to")
            problems.append(RowProblem(number, to_label, f"has no matching '{label}' column"))
            continue
        pauses.append((label, pause_from[ordinal], pause_to.get(ordinal)))
    return columns, pauses, problems


class _RowReader:
    def __init__(
        self,
        policy: pm.Policy,
        columns: dict[str, tuple[int, str]],
        pauses: list[tuple[str, int, int | None]],
    ) -> None:
        self.policy = policy
        self.columns = columns
        self.pauses = pauses
        self.severity_names = [
            name for s in policy.severities for name in (s.id, s.name, *s.aliases)
        ]
        types = policy.support.request_types
        self.request_types = [*types.covered, *types.enhancement]
        self.plan_ids = [plan.id for plan in policy.plans]
        self.pause_status = (policy.support.pause_when or [DEFAULT_PAUSE_STATUS])[0]
        self.header_of = {name: header for name, (_, header) in columns.items()}

    def read(
        self, number: int, record: list[str]
    ) -> tuple[ImportedTicket | None, list[RowProblem]]:
        problems: list[RowProblem] = []
        header_of = self.header_of

        def cell(canonical: str) -> str:
            index = self.columns.get(canonical, (None, ""))[0]
            if index is None or index >= len(record):
                return ""
            value = record[index].strip()
            return "" if value == "-" else value

        def problem(canonical: str, message: str) -> None:
            problems.append(RowProblem(number, header_of.get(canonical, canonical), message))

        for canonical in REQUIRED:
            if not cell(canonical):
                problem(canonical, "is empty: every request needs one")
        severity = self._severity(cell("severity"), problem)
        request_type = self._request_type(cell("type"), problem)
        plan = self._plan(cell("plan"), problem)
        opened = _instant(cell("opened_at"), "opened_at", problem)
        responded = self._first_response(cell("first_response_at"), opened, problem)
        resolved = _instant(cell("resolved_at"), "resolved_at", problem)
        for canonical, at in (("first_response_at", responded), ("resolved_at", resolved)):
            if opened is not None and at is not None and at < opened:
                problem(canonical, f"{at.isoformat()} is before the request was opened")
        events = self._pauses(record, number, opened, resolved, problems)
        if problems or opened is None or severity is None:
            return None, problems
        events.insert(0, TicketEvent(opened, EventKind.OPENED, severity=severity))
        if responded is not None:
            events.append(TicketEvent(responded, EventKind.RESPONDED))
        if resolved is not None:
            events.append(TicketEvent(resolved, EventKind.RESOLVED))
        events.sort(key=lambda event: event.at)
        ticket = ImportedTicket(
            cell("id"), cell("customer"), severity, request_type, events, plan, number
        )
        return ticket, problems

    def _severity(self, value: str, problem: Callable[[str, str], None]) -> str | None:
        if not value:
            return None
        try:
            return self.policy.severity(value).id
        except KeyError:
            names = self.severity_names
            problem(
                "severity",
                f"unknown severity '{value}'{did_you_mean(value, names)} (known: {one_of(names)})",
            )
            return None

    def _request_type(self, value: str, problem: Callable[[str, str], None]) -> str:
        kind = "-".join(value.lower().replace("_", " ").split()) or UNSPECIFIED_TYPE
        known = self.request_types
        if known and kind not in known:
            problem(
                "type",
                f"request type '{kind}' is neither covered nor an enhancement in the policy"
                f"{did_you_mean(kind, known)} (known: {one_of(known)})",
            )
        return kind

    def _plan(self, value: str, problem: Callable[[str, str], None]) -> str | None:
        if not value:
            return None
        if value in self.plan_ids:
            return value
        problem(
            "plan",
            f"unknown plan '{value}'{did_you_mean(value, self.plan_ids)} "
            f"(known: {one_of(self.plan_ids)})",
        )
        return None

    def _first_response(
        self, value: str, opened: datetime | None, problem: Callable[[str, str], None]
    ) -> datetime | None:
        header = self.columns.get("first_response_at", (0, ""))[1]
        if value and normalise_header(header) in MINUTES_HEADERS and not _INSTANT.match(value):
            try:
                minutes = Decimal(value)
            except InvalidOperation:
                minutes = Decimal(-1)
            if not minutes.is_finite() or not 0 <= minutes <= _MAX_MINUTES:
                problem("first_response_at", f"'{value}' is neither minutes nor an instant")
                return None
            if opened is None:
                return None
            try:
                return opened + timedelta(microseconds=round(Fraction(minutes) * 60_000_000))
            except OverflowError:
                problem("first_response_at", f"{value} minutes after opening is out of range")
                return None
        return _instant(value, "first_response_at", problem)

    def _pauses(
        self,
        record: list[str],
        number: int,
        opened: datetime | None,
        resolved: datetime | None,
        problems: list[RowProblem],
    ) -> list[TicketEvent]:
        events: list[TicketEvent] = []
        spans: list[tuple[str, datetime, datetime | None]] = []
        for label, from_index, to_index in self.pauses:
            to_label = label.replace("from", "to")

            def problem(column: str, message: str) -> None:
                problems.append(RowProblem(number, column, message))

            start_text = record[from_index].strip() if from_index < len(record) else ""
            end_text = (
                record[to_index].strip() if to_index is not None and to_index < len(record) else ""
            )
            start = _instant("" if start_text == "-" else start_text, label, problem)
            end = _instant("" if end_text == "-" else end_text, to_label, problem)
            if start is None:
                if end is not None:
                    problem(label, f"is empty but {to_label} is set")
                continue
            if opened is not None and start < opened:
                problem(label, f"{start.isoformat()} is before the request was opened")
            if resolved is not None and start >= resolved:
                problem(label, f"{start.isoformat()} is not before the resolution")
            if end is not None and end <= start:
                problem(to_label, f"{end.isoformat()} is not after {label}")
                continue
            for other_label, other_start, other_end in spans:
                if other_end is None or (start < other_end and (end is None or other_start < end)):
                    problem(label, f"overlaps the pause in {other_label}")
            spans.append((label, start, end))
            events.append(TicketEvent(start, EventKind.STATUS_CHANGED, status=self.pause_status))
            if end is not None and (resolved is None or end < resolved):  # else resolution ends it
                events.append(TicketEvent(end, EventKind.STATUS_CHANGED, status="open"))
        return events


def _instant(value: str, column: str, problem: Callable[[str, str], None]) -> datetime | None:
    if not value:
        return None
    match = _INSTANT.match(value)
    if match is None:
        problem(column, f"'{value}' is not an RFC 3339 instant, e.g. '{EXAMPLE_INSTANT}'")
        return None
    if match["offset"] is None:
        problem(
            column,
            f"'{value}' has no UTC offset: add one, e.g. '{EXAMPLE_INSTANT}' or 'Z' for UTC",
        )
        return None
    try:
        offset = match["offset"]
        bare = value[: match.start("offset")].rstrip()
        parsed = datetime.fromisoformat(bare.replace("t", "T") + offset.upper())
        return parsed.astimezone(UTC)
    except ValueError as error:
        problem(column, f"'{value}' is not a valid instant: {error}")
    except OverflowError:
        problem(column, f"'{value}' is outside the supported range of dates")
    return None
