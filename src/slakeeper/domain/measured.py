"""Downtime of a component derived from measurements (DOMAIN.md section 2, sources 1 and 2).

Time is cut into slices of the plan's ``down_rule.slice`` (whole minutes, aligned to multiples
of the slice since the Unix epoch). In each region, a slice is

- **down** when its requests had an error rate above ``error_rate_above`` percent (a slice
  with fewer than ``min_requests`` requests counts as up), or when its probes failed by the
  probe rule (``any`` failure, or a strict ``majority``);
- **up** when it has request or probe data and neither source says down;
- **no data** otherwise.

The component's slice then follows the region rule over the regions that reported: with
``any-region`` it is down only when every reporting region is down, with ``all-regions`` when
any is. A slice no region reported follows the no-data rule: ``up``, ``down`` or ``unknown``
(not down, and reported as no data). Finally, runs of down slices shorter than ``min_run`` are
dropped. A slice is judged on all of its data, and clipped to the range asked for, so a slice
that has only begun counts only up to ``end``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from slakeeper.domain.downtime import RegionRule
from slakeeper.domain.intervals import Interval, IntervalSet, require_aware

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class SliceCounts:
    """What one region saw of one component in one minute (or slice)."""

    requests: int = 0
    errors: int = 0
    probes: int = 0
    probe_failures: int = 0

    def __add__(self, other: SliceCounts) -> SliceCounts:
        return SliceCounts(
            self.requests + other.requests,
            self.errors + other.errors,
            self.probes + other.probes,
            self.probe_failures + other.probe_failures,
        )


@dataclass(frozen=True)
class DownRuleSpec:
    slice: timedelta = MINUTE
    error_rate_above: Decimal = Decimal(0)  # percent
    min_requests: int = 1
    min_run: timedelta = timedelta(0)
    probe_majority: bool = False

    def __post_init__(self) -> None:
        if self.slice <= timedelta(0) or self.slice % MINUTE:
            raise ValueError(f"a measured slice must be whole minutes, not {self.slice}")


@dataclass(frozen=True)
class MeasuredDowntime:
    down: IntervalSet
    no_data: IntervalSet


def slice_start(instant: datetime, length: timedelta) -> datetime:
    """The start of the slice of ``length`` that contains ``instant``."""
    require_aware(instant)
    return instant - (instant - EPOCH) % length


def region_state(counts: SliceCounts, rule: DownRuleSpec) -> bool | None:
    """True when down, False when up, None when the slice has no data."""
    has_data = counts.requests > 0 or counts.probes > 0
    if not has_data:
        return None
    # errors / requests > threshold %, exactly, in integers and Decimal.
    enough = counts.requests > 0 and counts.requests >= rule.min_requests
    if enough and counts.errors * 100 > rule.error_rate_above * counts.requests:
        return True
    if counts.probes > 0:
        failed = counts.probe_failures
        if (failed * 2 > counts.probes) if rule.probe_majority else failed > 0:
            return True
    return False


def measured_downtime(
    minutes: Mapping[str, Mapping[datetime, SliceCounts]],
    *,
    regions: Sequence[str],
    region_rule: RegionRule,
    rule: DownRuleSpec,
    no_data: str,
    start: datetime,
    end: datetime,
) -> MeasuredDowntime:
    """Downtime and no-data time of one component over ``[start, end)``.

    ``minutes`` maps a region to its per-minute counts (keys are minute starts, UTC); regions
    not in ``regions`` are ignored.
    """
    require_aware(start, "start")
    require_aware(end, "end")
    if no_data not in ("up", "down", "unknown"):
        raise ValueError(f"no_data is up, down or unknown, not {no_data!r}")
    if not regions:
        raise ValueError("a component is measured from at least one region")
    if end <= start:
        return MeasuredDowntime(IntervalSet(), IntervalSet())
    length = rule.slice
    per_region: list[dict[datetime, SliceCounts]] = []
    for region in regions:
        slices: dict[datetime, SliceCounts] = {}
        for minute, counts in minutes.get(region, {}).items():
            key = slice_start(minute, length)
            if key >= end or key + length <= start:
                continue
            previous = slices.get(key)
            slices[key] = counts if previous is None else previous + counts
        per_region.append(slices)
    # Only slices with data are judged one by one; the gaps between them are no data, in bulk.
    first = slice_start(start, length)
    with_data = sorted({key for slices in per_region for key in slices if first <= key < end})
    down: list[Interval] = []
    missing: list[Interval] = []
    covered: list[Interval] = []
    for cursor in with_data:
        reported = [
            state
            for state in (region_state(r[cursor], rule) for r in per_region if cursor in r)
            if state is not None
        ]
        lo, hi = max(cursor, start), min(cursor + length, end)
        if not reported:
            continue  # entries without a request or a probe: no data, left to the gaps
        covered.append(Interval(lo, hi))
        if all(reported) if region_rule is RegionRule.ANY_REGION else any(reported):
            down.append(Interval(lo, hi))
    gaps = IntervalSet.single(start, end).difference(IntervalSet(covered))
    missing.extend(gaps)
    if no_data == "down":
        down.extend(gaps)
    down_set = IntervalSet(down)
    if rule.min_run > timedelta(0):
        down_set = IntervalSet(i for i in down_set if i.duration >= rule.min_run)
    return MeasuredDowntime(down_set, IntervalSet(missing))
