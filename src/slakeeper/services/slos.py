"""Live SLOs: every SLO of the active policy evaluated from the stored aggregates (DOMAIN 7).

The stored minute aggregates become the engine's points (``domain.slo``):

- **availability**: per minute, good = requests whose status is not an error by the SLI
  (``error_statuses`` minus ``not_errors``), of all requests of the SLI's component;
- **latency**: occurrences count requests below the threshold, read from the minute's sketch;
  timeslices merge the slice's minute sketches and judge the slice's percentile (p95 by
  default) against the threshold, so a percentile is never averaged;
- **freshness**: samples whose value was under the threshold (judged at ingest) of all samples;
- **integrity**: each check is good when ``recorded == expected``;
- **accuracy**: each reconciliation is good when the invoice total deviates from the ledger
  total by at most ``tolerance_percent`` of the ledger total.

For timeslices, an availability or freshness slice is good when its ratio meets the objective.
Alert states are kept in the store, so they survive restarts; moves into firing and out of it
are written to the outbox in the same transaction.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from slakeeper.domain import slo as engine
from slakeeper.domain.intervals import seconds
from slakeeper.domain.sketch import LatencySketch
from slakeeper.policy.models import BudgetingMethod, Policy, SliKind, Slo
from slakeeper.services import policy_versions
from slakeeper.services.errors import Invalid, NotFound
from slakeeper.services.measured import status_matcher
from slakeeper.services.ports import UnitOfWork, UnitOfWorkFactory
from slakeeper.services.records import AlertStateRecord, OutboxMessage, iso

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
ALL_TIME_START = datetime(2000, 1, 1, tzinfo=UTC)
MAX_SERIES_POINTS = 2000


def spec_of(slo: Slo, policy: Policy) -> engine.SloSpec:
    window = slo.window
    return engine.SloSpec(
        objective=Fraction(slo.objective) / 100,
        method=engine.Method(slo.method.value),
        window_kind=engine.WindowKind(window.type),
        calendar_unit=window.unit if window.type == "calendar" else None,
        rolling_length=window.length if window.type == "rolling" else None,
        timezone=ZoneInfo(policy.metadata.timezone),
        slice=slo.slice if slo.method is BudgetingMethod.TIMESLICES else None,
        no_data=engine.NoData(slo.no_data.value),
        alerts=tuple(
            engine.AlertRule(a.name, Fraction(a.burn_rate), a.long_window, a.short_window)
            for a in slo.alerts
        ),
    )


@dataclass
class Aggregates:
    """Reads each kind of aggregate once per evaluation, over one range for every SLO."""

    uow: UnitOfWork
    org_id: str
    start: datetime
    end: datetime
    cache: dict[str, Any] = field(default_factory=dict)

    def requests(self) -> Any:
        if "requests" not in self.cache:
            self.cache["requests"] = self.uow.measurements.requests(
                self.org_id, self.start, self.end
            )
        return self.cache["requests"]

    def samples(self) -> Any:
        if "samples" not in self.cache:
            self.cache["samples"] = self.uow.measurements.samples(self.org_id, self.start, self.end)
        return self.cache["samples"]


def _grid(spec: engine.SloSpec, now: datetime) -> Callable[[datetime], datetime]:
    """The start of the timeslice holding an instant, on the engine's grid."""
    assert spec.slice is not None
    length = spec.slice
    origin = EPOCH
    if spec.window_kind is engine.WindowKind.CALENDAR:
        start, _ = engine.window_bounds(spec, now)
        assert start is not None
        origin = start
    return lambda instant: instant - (instant - origin) % length


def points(slo: Slo, spec: engine.SloSpec, data: Aggregates, now: datetime) -> list[engine.Point]:
    """The engine's points for ``slo`` from the stored aggregates in ``data``'s range."""
    sli = slo.sli
    kind = sli.kind
    minutes: list[tuple[datetime, int, int]] = []  # minute, good, total
    sketches: list[tuple[datetime, LatencySketch]] = []
    if kind is SliKind.AVAILABILITY:
        bad = status_matcher(sli.error_statuses)
        fine = status_matcher(sli.not_errors)
        for b in data.requests():
            if sli.component in (None, b.component):
                errors = sum(c for s, c in b.statuses.items() if bad(s) and not fine(s))
                minutes.append((b.minute, b.total - errors, b.total))
    elif kind is SliKind.LATENCY:
        assert sli.threshold is not None
        threshold_ms = sli.threshold / timedelta(milliseconds=1)
        for b in data.requests():
            if sli.component in (None, b.component) and b.latency.count:
                if spec.method is engine.Method.TIMESLICES:
                    sketches.append((b.minute, b.latency))
                else:
                    good = b.latency.count_below(threshold_ms)
                    minutes.append((b.minute, good, b.latency.count))
    elif kind is SliKind.FRESHNESS:
        assert sli.threshold is not None
        threshold = sli.threshold // timedelta(milliseconds=1)
        for s in data.samples():
            if sli.component in (None, s.component) and threshold in s.under:
                minutes.append((s.minute, s.under[threshold], s.total))
    elif kind is SliKind.INTEGRITY:
        for check in data.uow.measurements.checks(data.org_id):
            if sli.component in (None, check.component):
                minute = check.at.replace(second=0, microsecond=0)
                minutes.append((minute, int(check.recorded == check.expected), 1))
    elif kind is SliKind.ACCURACY:
        tolerance = Fraction(sli.tolerance_percent or 0) / 100
        for r in data.uow.measurements.reconciliations(data.org_id):
            deviation = abs(Fraction(r.invoice_total) - Fraction(r.ledger_total))
            good = deviation <= tolerance * abs(Fraction(r.ledger_total))
            minute = r.at.replace(second=0, microsecond=0)
            minutes.append((minute, int(good), 1))
    if spec.method is engine.Method.OCCURRENCES:
        merged: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
        for minute, good, total in minutes:
            merged[minute][0] += good
            merged[minute][1] += total
        return [engine.Point(m, g, t) for m, (g, t) in sorted(merged.items())]
    grid = _grid(spec, now)
    if kind is SliKind.LATENCY:
        percentile = float(sli.percentile or 95) / 100
        assert sli.threshold is not None
        threshold_ms = sli.threshold / timedelta(milliseconds=1)
        per_slice: dict[datetime, LatencySketch] = defaultdict(LatencySketch)
        for minute, sketch in sketches:
            per_slice[grid(minute)].merge(sketch)
        judged = {
            start: (sketch.quantile(percentile) or 0.0) < threshold_ms
            for start, sketch in per_slice.items()
        }
    else:
        sums: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
        for minute, good, total in minutes:
            cell = sums[grid(minute)]
            cell[0] += good
            cell[1] += total
        judged = {
            start: Fraction(good, total) >= spec.objective
            for start, (good, total) in sums.items()
            if total
        }
    return [engine.Point(start, int(ok), 1) for start, ok in sorted(judged.items())]


def _range(specs: Iterable[engine.SloSpec], now: datetime) -> datetime:
    earliest = now
    for spec in specs:
        start, _ = engine.window_bounds(spec, now)
        longest = max((a.long_window for a in spec.alerts), default=timedelta(hours=1))
        earliest = min(earliest, start or ALL_TIME_START, now - longest)
        if spec.slice is not None:
            earliest -= spec.slice
    return earliest


@dataclass(frozen=True)
class LiveSlo:
    slo: Slo
    spec: engine.SloSpec
    status: engine.SloStatus
    alerts: tuple[AlertStateRecord, ...]
    percentile_ms: float | None = None  # latency SLOs: the window's percentile, merged sketch


def window_percentile(
    slo: Slo, spec: engine.SloSpec, data: Aggregates, now: datetime
) -> float | None:
    """The latency SLI's percentile over the SLO window so far, read from the merged sketch of
    the window's minutes (within the sketch's 1 % relative error)."""
    if slo.sli.kind is not SliKind.LATENCY:
        return None
    start, _ = engine.window_bounds(spec, now)
    sketch = LatencySketch()
    for b in data.requests():
        inside = (start is None or b.minute >= start) and b.minute < now
        if inside and slo.sli.component in (None, b.component):
            sketch.merge(b.latency)
    return sketch.quantile(float(slo.sli.percentile or 95) / 100)


def live(
    uow: UnitOfWork, org_id: str, now: datetime, only: str | None = None
) -> tuple[list[LiveSlo], Policy | None]:
    found = policy_versions.active(uow, org_id)
    if found is None:
        if only is not None:
            raise NotFound(f"no SLO {only!r}: this organisation has no active policy")
        return [], None
    policy = found[1].policy
    slos = [s for s in policy.slos if only in (None, s.id)]
    if only is not None and not slos:
        raise NotFound(f"the active policy has no SLO {only!r}")
    specs = [spec_of(s, policy) for s in slos]
    data = Aggregates(uow, org_id, _range(specs, now), now + MINUTE)
    states = defaultdict(list)
    for record in uow.measurements.alert_states(org_id):
        states[record.slo_id].append(record)
    return [
        LiveSlo(slo, spec, engine.evaluate(spec, points(slo, spec, data, now), now),
                tuple(states[slo.id]), window_percentile(slo, spec, data, now))
        for slo, spec in zip(slos, specs, strict=True)
    ], policy  # fmt: skip


# --------------------------------------------------------------------------- alerts
@dataclass(frozen=True)
class AlertRun:
    evaluated: int
    transitions: list[tuple[str, engine.Transition]]


def evaluate_alerts(uow: UnitOfWork, org_id: str, now: datetime) -> AlertRun:
    """Evaluate every SLO's burn-rate alerts at ``now``; store the new states and write a
    notification for each move into firing or out of it (the caller commits)."""
    found = policy_versions.active(uow, org_id)
    if found is None:
        return AlertRun(0, [])
    results, _ = live(uow, org_id, now)
    transitions: list[tuple[str, engine.Transition]] = []
    for result in results:
        previous = {
            r.rule_index: engine.AlertRecord(
                r.name, r.rule_index, engine.AlertState(r.state), r.since, r.last_fired
            )
            for r in result.alerts
            if r.rule_index < len(result.spec.alerts)
        }
        states, moves = engine.next_alert_states(result.status, previous)
        for index, record in states.items():
            before = previous.get(index)
            if before is None or before != record:
                uow.measurements.put_alert_state(
                    AlertStateRecord(
                        org_id, result.slo.id, index, record.name, record.state.value,
                        record.since, now, record.last_fired,
                    )
                )  # fmt: skip
        for move in moves:
            transitions.append((result.slo.id, move))
            if move.notify:
                uow.outbox.add(_alert_message(org_id, result, move, now))
    return AlertRun(len(results), transitions)


def _alert_message(
    org_id: str, result: LiveSlo, move: engine.Transition, now: datetime
) -> OutboxMessage:
    topic = "slo.alert.firing" if move.after is engine.AlertState.FIRING else "slo.alert.resolved"
    rule = result.spec.alerts[move.rule_index]
    payload = {
        "topic": topic,
        "slo": result.slo.id,
        "name": result.slo.name,
        "alert": move.name,
        "rule": _rule_json(rule),
        "at": iso(move.at),
        "long_rate": fraction_text(move.long_rate),
        "short_rate": fraction_text(move.short_rate),
        "budget_remaining": fraction_text(result.status.budget_remaining),
    }
    return OutboxMessage(
        org_id=org_id,
        dedupe_key=f"slo:{result.slo.id}:{move.rule_index}:{move.after.value}:{iso(move.at)}",
        topic=topic,
        payload=json.dumps(payload, sort_keys=True),
        created_at=now,
        attempts=0,
        next_attempt_at=now,
    )


def run_alerts(uow: UnitOfWorkFactory, now: datetime) -> int:
    """One evaluator pass over every organisation; returns how many alerts moved."""
    with uow() as work:
        organisations = work.organisations.all()
    moved = 0
    for org in organisations:
        with uow() as work:
            moved += len(evaluate_alerts(work, org.id, now).transitions)
            work.commit()
    return moved


# --------------------------------------------------------------------------- JSON
def fraction_text(value: Fraction | None, places: int = 6) -> str | None:
    """A Fraction as a decimal string rounded half-even to ``places`` (for display only)."""
    if value is None:
        return None
    scaled = round(value * 10**places)
    sign = "-" if scaled < 0 else ""
    whole, part = divmod(abs(scaled), 10**places)
    return f"{sign}{whole}.{part:0{places}d}".rstrip("0").rstrip(".")


def _rule_json(rule: engine.AlertRule) -> dict[str, object]:
    return {
        "name": rule.name,
        "burn_rate": fraction_text(rule.burn_rate),
        "long_window": str(rule.long_window),
        "short_window": str(rule.short_window),
    }


def slo_json(result: LiveSlo) -> dict[str, object]:
    status = result.status
    slo = result.slo
    records = {r.rule_index: r for r in result.alerts}
    return {
        "id": slo.id,
        "name": slo.name,
        "kind": slo.sli.kind.value,
        "component": slo.sli.component,
        "objective_percent": format(slo.objective, "f"),
        "method": slo.method.value,
        "window": {
            "type": slo.window.type,
            "start": iso(status.window_start),
            "end": iso(status.window_end),
        },
        "good": status.good,
        "bad": status.bad,
        "total": status.total,
        "no_data_slices": status.no_data_slices,
        "latency": None
        if slo.sli.kind is not SliKind.LATENCY
        else {
            "percentile": format(slo.sli.percentile or 95, "f"),
            "threshold_ms": fraction_text(seconds(slo.sli.threshold or timedelta(0)) * 1000),
            "window_value_ms": None
            if result.percentile_ms is None
            else f"{result.percentile_ms:.3f}",
        },
        "sli_percent": fraction_text(None if status.sli is None else status.sli * 100),
        "budget": {
            "total": fraction_text(status.budget_total),
            "consumed": fraction_text(status.budget_consumed),
            "remaining_percent": fraction_text(
                None if status.budget_remaining is None else status.budget_remaining * 100
            ),
            "exhausted": status.exhausted,
        },
        "time_to_exhaustion_seconds": None
        if status.time_to_exhaustion is None
        else str(int(status.time_to_exhaustion.total_seconds())),
        "alerts": [
            {
                **_rule_json(burn.rule),
                "long_rate": fraction_text(burn.long_rate),
                "short_rate": fraction_text(burn.short_rate),
                "condition": burn.long_above and burn.short_above,
                "state": records[index].state if index in records else "ok",
                "since": iso(records[index].since) if index in records else None,
            }
            for index, burn in enumerate(status.burn_rates)
        ],
    }


def series(
    uow: UnitOfWork, org_id: str, slo_id: str, start: datetime, end: datetime, step: timedelta
) -> dict[str, object]:
    """Good and total per step over ``[start, end)`` for charts (steps are whole minutes)."""
    if step < MINUTE or step % MINUTE:
        raise Invalid("step is whole minutes, at least 1m")
    if end <= start:
        raise Invalid("`to` must be after `from`")
    if (end - start) / step > MAX_SERIES_POINTS:
        raise Invalid(f"at most {MAX_SERIES_POINTS} points: use a larger step")
    found = policy_versions.active(uow, org_id)
    policy = None if found is None else found[1].policy
    slo = None if policy is None else next((s for s in policy.slos if s.id == slo_id), None)
    if slo is None:
        raise NotFound(f"the active policy has no SLO {slo_id!r}")
    assert policy is not None
    spec = spec_of(slo, policy)
    data = Aggregates(uow, org_id, start - (spec.slice or MINUTE), end)
    judged = points(slo, spec, data, end)
    buckets: dict[datetime, list[int]] = {}
    cursor = start
    while cursor < end:
        buckets[cursor] = [0, 0]
        cursor += step
    for point in judged:
        if start <= point.start < end:
            cell = buckets[start + (point.start - start) // step * step]
            cell[0] += point.good
            cell[1] += point.total
    return {
        "slo": slo.id,
        "step_seconds": int(step.total_seconds()),
        "points": [
            {
                "start": iso(at),
                "good": good,
                "bad": total - good,
                "total": total,
                "sli_percent": fraction_text(Fraction(good * 100, total)) if total else None,
            }
            for at, (good, total) in buckets.items()
        ],
    }


def alerts_json(uow: UnitOfWork, org_id: str) -> list[dict[str, object]]:
    return [
        {
            "slo": r.slo_id,
            "rule_index": r.rule_index,
            "name": r.name,
            "state": r.state,
            "since": iso(r.since),
            "last_fired": iso(r.last_fired),
        }
        for r in uow.measurements.alert_states(org_id)
    ]
