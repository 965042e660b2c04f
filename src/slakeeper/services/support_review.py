"""The SLA review (seed 004): how real support requests fared against the policy's targets.

:func:`review` takes tickets already replayed (:func:`slakeeper.domain.support.replay`, usually
at the period's end or later) and returns plain values; :func:`review_json` and
:func:`review_table` render them. Nothing here does I/O.

Definitions:

- The review covers the tickets *opened* in ``[period_start, period_end)``, with every clock of
  each (later resolution cycles included).
- Requests are counted by request type and by severity; the enhancement share is
  enhancements / requests.
- Target rows group the clocks that carry a target by (severity, plan, clock). Enhancements are
  left out of them (they run no SLA clock). A clock is *decided* when met or breached (a running
  clock past its due instant is already breached); attainment = met / decided.
- Median and p90 of actual business time use the clocks that stopped (response: elapsed at the
  first response; resolution: elapsed per cycle), by the **nearest-rank** definition: the p-th
  percentile of n sorted values is the value of rank ceil(p/100 x n), so the median is the lower
  median. The median share is the nearest-rank median of elapsed / target per clock (targets
  vary with business-day targets).
- Paused time is the open business time spent paused: per row, summed over its clocks; overall,
  summed over every ticket's resolution cycles.
- Percentages are exact fractions, rounded half-up to one decimal only for display.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from slakeeper.domain.intervals import require_aware
from slakeeper.domain.money import round_half_up
from slakeeper.domain.support import ClockResult, ClockState, TicketClocks
from slakeeper.policy.types import format_duration

PERCENTILE_METHOD = "nearest-rank"
_ZERO = timedelta(0)
_US = timedelta(microseconds=1)
_CLOCK_ORDER = {"response": 0, "resolution": 1}


@dataclass(frozen=True)
class ReviewTicket:
    id: str
    customer: str
    plan: str
    severity: str
    request_type: str
    enhancement: bool
    clocks: TicketClocks

    @property
    def opened_at(self) -> datetime:
        return self.clocks.response.started_at


@dataclass(frozen=True)
class FindingThresholds:
    """When :func:`review` writes a finding. Percentages are of the exact ratios."""

    attainment_below_percent: Fraction = Fraction(80)
    min_decided: int = 5  # decided (or stopped) clocks a row needs before it is judged
    tuning_share_percent: Fraction = Fraction(30)
    enhancement_share_percent: Fraction = Fraction(20)
    fast_median_share_percent: Fraction = Fraction(25)
    min_requests: int = 5  # requests the period needs before shares are judged


DEFAULT_THRESHOLDS = FindingThresholds()


@dataclass(frozen=True)
class TargetRow:
    severity: str
    plan: str
    clock: str
    calendar: str
    clocks: int
    decided: int
    met: int
    breached: int
    running: int
    stopped: int
    target_low: timedelta
    target_high: timedelta
    attainment: Fraction | None
    median: timedelta | None
    p90: timedelta | None
    median_share: Fraction | None
    paused: timedelta


@dataclass(frozen=True)
class Finding:
    code: str  # low-attainment, fast-median, tuning-volume, enhancement-share
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Review:
    period_start: datetime
    period_end: datetime
    requests: int
    by_type: tuple[tuple[str, int], ...]  # most frequent first
    by_severity: tuple[tuple[str, int], ...]
    enhancements: int
    enhancement_share: Fraction | None
    paused: timedelta
    rows: tuple[TargetRow, ...]
    findings: tuple[Finding, ...]


def percent_text(ratio: Fraction) -> str:
    """``7/12`` -> ``"58.3"``: percent, rounded half-up to one decimal."""
    return format(round_half_up(ratio * 100, 1), "f")


def nearest_rank(values: Sequence[timedelta], percent: int) -> timedelta:
    """The nearest-rank percentile of ``values`` (non-empty), exactly."""
    ordered = sorted(values)
    rank = -(-percent * len(ordered) // 100)  # ceil(p/100 x n)
    return ordered[max(rank, 1) - 1]


def review(
    tickets: Sequence[ReviewTicket],
    *,
    period_start: datetime,
    period_end: datetime,
    findings_thresholds: FindingThresholds = DEFAULT_THRESHOLDS,
    severity_order: Sequence[str] = (),
) -> Review:
    """The review of the tickets opened in ``[period_start, period_end)``.

    ``severity_order`` (e.g. the policy's ladder) orders the severities; others follow by name.
    """
    start = require_aware(period_start, "period_start")
    end = require_aware(period_end, "period_end")
    if end <= start:
        raise ValueError("the review period must end after it starts")
    chosen = [ticket for ticket in tickets if start <= ticket.opened_at < end]
    rank = {name: index for index, name in enumerate(severity_order)}

    def severity_key(name: str) -> tuple[int, str]:
        return rank.get(name, len(rank)), name

    by_type = sorted(Counter(t.request_type for t in chosen).items(), key=lambda i: (-i[1], i[0]))
    by_severity = sorted(
        Counter(t.severity for t in chosen).items(), key=lambda item: severity_key(item[0])
    )
    enhancements = sum(1 for ticket in chosen if ticket.enhancement)
    groups: dict[tuple[str, str, str], list[ClockResult]] = {}
    for ticket in chosen:
        if ticket.enhancement:
            continue
        for result in ticket.clocks.clocks:
            if result.state is not ClockState.NO_TARGET:
                groups.setdefault((ticket.severity, ticket.plan, result.clock), []).append(result)
    rows = tuple(
        _row(key, groups[key])
        for key in sorted(
            groups, key=lambda k: (severity_key(k[0]), k[1], _CLOCK_ORDER.get(k[2], 9), k[2])
        )
    )
    share = Fraction(enhancements, len(chosen)) if chosen else None
    paused = sum((c.paused for t in chosen for c in t.clocks.resolution), _ZERO)
    findings = _findings(rows, by_type, len(chosen), share, findings_thresholds)
    return Review(
        period_start=start,
        period_end=end,
        requests=len(chosen),
        by_type=tuple(by_type),
        by_severity=tuple(by_severity),
        enhancements=enhancements,
        enhancement_share=share,
        paused=paused,
        rows=rows,
        findings=findings,
    )


def _row(key: tuple[str, str, str], results: list[ClockResult]) -> TargetRow:
    severity, plan, clock = key
    met = sum(1 for r in results if r.state is ClockState.MET)
    breached = sum(1 for r in results if r.state is ClockState.BREACHED)
    stopped = [r for r in results if r.stopped_at is not None]
    targets = [r.target for r in results if r.target is not None]
    actual = [r.elapsed for r in stopped]
    shares = [
        Fraction(r.elapsed // _US, r.target // _US)
        for r in stopped
        if r.target is not None and r.target
    ]
    calendars = sorted({r.calendar for r in results})
    return TargetRow(
        severity=severity,
        plan=plan,
        clock=clock,
        calendar=", ".join(calendars),
        clocks=len(results),
        decided=met + breached,
        met=met,
        breached=breached,
        running=len(results) - met - breached,
        stopped=len(stopped),
        target_low=min(targets),
        target_high=max(targets),
        attainment=Fraction(met, met + breached) if met + breached else None,
        median=nearest_rank(actual, 50) if actual else None,
        p90=nearest_rank(actual, 90) if actual else None,
        median_share=_median_fraction(shares),
        paused=sum((r.paused for r in results), _ZERO),
    )


def _median_fraction(values: list[Fraction]) -> Fraction | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[-(-len(ordered) // 2) - 1]


def _findings(
    rows: tuple[TargetRow, ...],
    by_type: list[tuple[str, int]],
    requests: int,
    enhancement_share: Fraction | None,
    limits: FindingThresholds,
) -> tuple[Finding, ...]:
    found: list[Finding] = []
    for row in rows:
        where = f"{row.severity} {row.clock} on {row.plan}"
        if (
            row.attainment is not None
            and row.decided >= limits.min_decided
            and row.attainment * 100 < limits.attainment_below_percent
        ):
            found.append(
                Finding(
                    "low-attainment",
                    f"{where} met {percent_text(row.attainment)} % of the time "
                    f"({row.met} of {row.decided}): the target or the staffing is unrealistic",
                )
            )
        elif (
            row.median_share is not None
            and row.stopped >= limits.min_decided
            and row.median_share * 100 < limits.fast_median_share_percent
        ):
            found.append(
                Finding(
                    "fast-median",
                    f"median {where} is {percent_text(row.median_share)} % of the target: "
                    "the target could be tighter",
                )
            )
    if requests >= limits.min_requests:
        for request_type, count in by_type:
            share = Fraction(count, requests)
            if "tuning" in request_type.lower() and share * 100 >= limits.tuning_share_percent:
                found.append(
                    Finding(
                        "tuning-volume",
                        f"{request_type} requests are {percent_text(share)} % of volume: "
                        "consider pricing them",
                    )
                )
        if (
            enhancement_share is not None
            and enhancement_share * 100 >= limits.enhancement_share_percent
        ):
            found.append(
                Finding(
                    "enhancement-share",
                    f"enhancements are {percent_text(enhancement_share)} % of requests: "
                    "check clients understand what is covered",
                )
            )
    return tuple(found)


# --------------------------------------------------------------------------- rendering
def seconds_text(duration: timedelta) -> str:
    """Exact seconds as a decimal string (``"5400"``, ``"0.5"``)."""
    micro = duration // _US
    whole, rest = divmod(micro, 1_000_000)
    if not rest:
        return str(whole)
    return f"{whole}.{rest:06d}".rstrip("0")


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def review_json(result: Review) -> dict[str, object]:
    """A stable JSON document: counts are integers, every other number is a string."""

    def optional(value: timedelta | None) -> str | None:
        return None if value is None else seconds_text(value)

    def ratio(value: Fraction | None) -> str | None:
        return None if value is None else percent_text(value)

    return {
        "period": {"start": _instant(result.period_start), "end": _instant(result.period_end)},
        "requests": result.requests,
        "by_type": [{"type": name, "count": count} for name, count in result.by_type],
        "by_severity": [{"severity": name, "count": count} for name, count in result.by_severity],
        "enhancements": {"count": result.enhancements, "percent": ratio(result.enhancement_share)},
        "paused_seconds": seconds_text(result.paused),
        "percentile_method": PERCENTILE_METHOD,
        "targets": [
            {
                "severity": row.severity,
                "plan": row.plan,
                "clock": row.clock,
                "calendar": row.calendar,
                "target_seconds": {
                    "low": seconds_text(row.target_low),
                    "high": seconds_text(row.target_high),
                },
                "clocks": row.clocks,
                "decided": row.decided,
                "met": row.met,
                "breached": row.breached,
                "running": row.running,
                "stopped": row.stopped,
                "attainment_percent": ratio(row.attainment),
                "median_seconds": optional(row.median),
                "p90_seconds": optional(row.p90),
                "median_share_percent": ratio(row.median_share),
                "paused_seconds": seconds_text(row.paused),
            }
            for row in result.rows
        ],
        "findings": [{"code": f.code, "message": f.message} for f in result.findings],
    }


def review_table(result: Review) -> str:
    """The review as plain text for a terminal."""
    share = result.enhancement_share
    lines = [
        f"SLA review {_instant(result.period_start)} .. {_instant(result.period_end)}",
        f"{result.requests} requests, {result.enhancements} enhancements"
        + ("" if share is None else f" ({percent_text(share)} %)")
        + f", {_human(result.paused)} paused (business time)",
        "",
        "Requests by type",
        *_columns([[name, str(count)] for name, count in result.by_type], indent=2),
        "",
        "Requests by severity",
        *_columns([[name, str(count)] for name, count in result.by_severity], indent=2),
        "",
        f"Targets (percentiles: {PERCENTILE_METHOD}, over stopped clocks)",
    ]
    header = ["severity", "plan", "clock", "target", "decided", "met", "breached", "attained"]
    header += ["median", "p90", "median/target", "running", "paused"]
    body = [
        [
            row.severity,
            row.plan,
            row.clock,
            _human(row.target_low)
            if row.target_low == row.target_high
            else f"{_human(row.target_low)}-{_human(row.target_high)}",
            str(row.decided),
            str(row.met),
            str(row.breached),
            "-" if row.attainment is None else f"{percent_text(row.attainment)} %",
            "-" if row.median is None else _human(row.median),
            "-" if row.p90 is None else _human(row.p90),
            "-" if row.median_share is None else f"{percent_text(row.median_share)} %",
            str(row.running),
            _human(row.paused),
        ]
        for row in result.rows
    ]
    lines += _columns([header, *body], indent=2) if body else ["  (no clock with a target)"]
    lines += ["", "Findings"]
    lines += [f"  - {finding.message}" for finding in result.findings] or ["  (none)"]
    return "\n".join(lines) + "\n"


def _human(duration: timedelta) -> str:
    """``4h30m``; sub-second remainders are dropped for display."""
    return format_duration(duration - duration % timedelta(seconds=1))


def _columns(rows: list[list[str]], *, indent: int) -> list[str]:
    if not rows:
        return [" " * indent + "(none)"]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        (
            " " * indent + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
