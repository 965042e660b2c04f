"""Downtime derived from the stored minute aggregates, by a plan's down rule (DOMAIN.md 2).

Request buckets and probe results of each component are cut into the plan's slices and judged
per region (``domain.measured``); the regions combine by the plan's region rule, and slices
nobody reported follow its no-data rule. A component with no measurement at all in the range
is left to declared incidents: it is reported as unmeasured rather than judged by the no-data
rule, so an organisation that only declares incidents is not marked down for want of data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from slakeeper.domain.intervals import IntervalSet, seconds
from slakeeper.domain.measured import DownRuleSpec, SliceCounts, measured_downtime
from slakeeper.policy import compile as pc
from slakeeper.policy.models import Plan, Policy, ProbeRule
from slakeeper.services.evaluate import decimal_seconds
from slakeeper.services.facts import DowntimeFact
from slakeeper.services.records import ProbeBucket, RequestBucket


def status_matcher(patterns: Iterable[str | int]) -> Callable[[int], bool]:
    """A test for HTTP statuses named by patterns like ``5xx``, ``50x`` or ``503``."""
    return _matcher(tuple(sorted(str(p).lower() for p in patterns)))


@lru_cache(maxsize=64)
def _matcher(patterns: tuple[str, ...]) -> Callable[[int], bool]:
    codes = frozenset(
        code
        for code in range(100, 600)
        if any(all(p in ("x", c) for p, c in zip(pattern, str(code), strict=True))
               for pattern in patterns)
    )  # fmt: skip
    return codes.__contains__


@dataclass(frozen=True)
class ComponentMeasurement:
    component: str
    measured: bool
    down: IntervalSet
    no_data: IntervalSet

    def as_json(self) -> dict[str, object]:
        return {
            "measured": self.measured,
            "down_seconds": decimal_seconds(seconds(self.down.total())),
            "no_data_seconds": decimal_seconds(seconds(self.no_data.total())),
        }


def down_rule(plan: Plan) -> DownRuleSpec:
    rule = plan.uptime.down_rule
    return DownRuleSpec(
        slice=rule.slice,
        error_rate_above=rule.error_rate_above,
        min_requests=rule.min_requests,
        min_run=rule.min_run,
        probe_majority=rule.probe_failures is ProbeRule.MAJORITY,
    )


def measure_plan(
    policy: Policy,
    plan: Plan,
    start: datetime,
    end: datetime,
    requests: Sequence[RequestBucket],
    probes: Sequence[ProbeBucket],
) -> list[ComponentMeasurement]:
    """Each measured component of ``plan`` over ``[start, end)``, from the request buckets and
    probe results of that range: its downtime and no-data time."""
    components = [c for c in plan.uptime.measured_on if not policy.component(c).beta]
    regions = plan.uptime.regions or [r.id for r in policy.regions]
    is_error = status_matcher(plan.uptime.down_rule.error_statuses)
    minutes: dict[str, dict[str, dict[datetime, SliceCounts]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for bucket in requests:
        if bucket.component in components:
            errors = sum(c for s, c in bucket.statuses.items() if is_error(s))
            cell = minutes[bucket.component][bucket.region]
            cell[bucket.minute] = cell.get(bucket.minute, SliceCounts()) + SliceCounts(
                requests=bucket.total, errors=errors
            )
    for probe in probes:
        if probe.component in components:
            cell = minutes[probe.component][probe.region]
            cell[probe.minute] = cell.get(probe.minute, SliceCounts()) + SliceCounts(
                probes=probe.total, probe_failures=probe.failed
            )
    rule = down_rule(plan)
    results = []
    for component in components:
        if component not in minutes:
            everything = IntervalSet.single(start, end) if end > start else IntervalSet()
            results.append(ComponentMeasurement(component, False, IntervalSet(), everything))
            continue
        found = measured_downtime(
            minutes[component],
            regions=regions,
            region_rule=pc.region_rule(plan),
            rule=rule,
            no_data=plan.uptime.no_data.value,
            start=start,
            end=end,
        )
        results.append(ComponentMeasurement(component, True, found.down, found.no_data))
    return results


def downtime_facts(measurements: Sequence[ComponentMeasurement]) -> list[DowntimeFact]:
    return [
        DowntimeFact(
            component=m.component,
            start=interval.start,
            end=interval.end,
            reason="measured: requests and probes by the plan's down rule",
        )
        for m in measurements
        for interval in m.down
    ]
