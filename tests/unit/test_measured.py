"""Measured downtime (DOMAIN.md 2) and the latency sketch, each against a slow obvious twin."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from ddsketch import DDSketch
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import scaled
from slakeeper.domain.downtime import RegionRule
from slakeeper.domain.intervals import Interval, IntervalSet
from slakeeper.domain.measured import (
    DownRuleSpec,
    SliceCounts,
    measured_downtime,
    region_state,
)
from slakeeper.domain.sketch import (
    MIN_INDEXABLE,
    RELATIVE_ACCURACY,
    LatencySketch,
    key_of,
    merged,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_the_error_rate_threshold_is_exact_and_strict() -> None:
    rule = DownRuleSpec(error_rate_above=Decimal("0.1"), min_requests=10)
    assert region_state(SliceCounts(requests=1000, errors=1), rule) is False  # 0.1 % is not above
    assert region_state(SliceCounts(requests=1000, errors=2), rule) is True
    assert region_state(SliceCounts(requests=9, errors=9), rule) is False  # too few requests
    assert region_state(SliceCounts(), rule) is None
    majority = DownRuleSpec(probe_majority=True)
    assert region_state(SliceCounts(probes=4, probe_failures=2), majority) is False
    assert region_state(SliceCounts(probes=3, probe_failures=2), majority) is True
    assert region_state(SliceCounts(probes=4, probe_failures=1), DownRuleSpec()) is True


def test_regions_combine_over_those_that_reported_and_no_data_follows_the_rule() -> None:
    us = {T0: SliceCounts(requests=5, errors=5), T0 + MINUTE: SliceCounts(requests=5, errors=5)}
    eu = {T0: SliceCounts(requests=5, errors=0)}
    end = T0 + 3 * MINUTE
    common = {"regions": ["us", "eu"], "rule": DownRuleSpec(), "start": T0, "end": end}
    any_region = measured_downtime(
        {"us": us, "eu": eu}, region_rule=RegionRule.ANY_REGION, no_data="up", **common
    )
    # Minute 0: eu is up; minute 1: only us reported, and it is down; minute 2: nobody.
    assert any_region.down == IntervalSet.of((T0 + MINUTE, T0 + 2 * MINUTE))
    assert any_region.no_data == IntervalSet.of((T0 + 2 * MINUTE, end))
    all_regions = measured_downtime(
        {"us": us, "eu": eu}, region_rule=RegionRule.ALL_REGIONS, no_data="down", **common
    )
    assert all_regions.down == IntervalSet.of((T0, end))


def test_short_runs_are_dropped_and_slices_are_clipped_to_the_range() -> None:
    rule = DownRuleSpec(slice=timedelta(minutes=5), min_run=timedelta(minutes=10))
    data = {"r": {T0 + 5 * MINUTE: SliceCounts(1, 1), T0 + 20 * MINUTE: SliceCounts(1, 1),
                  T0 + 25 * MINUTE: SliceCounts(1, 1)}}  # fmt: skip
    found = measured_downtime(
        data, regions=["r"], region_rule=RegionRule.ANY_REGION, rule=rule, no_data="unknown",
        start=T0 + 7 * MINUTE, end=T0 + 30 * MINUTE,
    )  # fmt: skip
    assert found.down == IntervalSet.of((T0 + 20 * MINUTE, T0 + 30 * MINUTE))
    assert found.no_data == IntervalSet.of((T0 + 10 * MINUTE, T0 + 20 * MINUTE))
    with pytest.raises(ValueError, match="whole minutes"):
        DownRuleSpec(slice=timedelta(seconds=30))


counts = st.builds(
    SliceCounts,
    requests=st.integers(0, 6),
    errors=st.integers(0, 3),
    probes=st.integers(0, 3),
    probe_failures=st.integers(0, 3),
).filter(lambda c: c.errors <= c.requests and c.probe_failures <= c.probes)


def _twin(data, regions, rule_kind, rule, no_data, start, end) -> set[datetime]:  # type: ignore[no-untyped-def]
    """Down minutes, one minute at a time: sum the minute's slice, judge, combine."""
    down: set[datetime] = set()
    minute = start
    while minute < end:
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        first = minute - (minute - epoch) % rule.slice
        states = []
        for region in regions:
            total = SliceCounts()
            seen = False
            step = first
            while step < first + rule.slice:
                if step in data.get(region, {}):
                    total = total + data[region][step]
                    seen = True
                step += MINUTE
            if seen and (total.requests or total.probes):
                rate = total.requests and total.errors * 100 / total.requests
                bad = (total.requests >= max(rule.min_requests, 1) and
                       rate > rule.error_rate_above) or (total.probes and (
                    total.probe_failures * 2 > total.probes if rule.probe_majority
                    else total.probe_failures > 0))  # fmt: skip
                states.append(bool(bad))
        if not states:
            if no_data == "down":
                down.add(minute)
        elif all(states) if rule_kind is RegionRule.ANY_REGION else any(states):
            down.add(minute)
        minute += MINUTE
    return down


@settings(max_examples=scaled(150), deadline=None)
@given(
    data=st.dictionaries(
        st.sampled_from(["a", "b", "c"]),
        st.dictionaries(st.integers(0, 40).map(lambda n: T0 + n * MINUTE), counts, max_size=25),
    ),
    rule_kind=st.sampled_from(list(RegionRule)),
    slice_minutes=st.sampled_from([1, 2, 5]),
    threshold=st.sampled_from([Decimal(0), Decimal(25), Decimal("50.5")]),
    min_requests=st.integers(0, 3),
    majority=st.booleans(),
    no_data=st.sampled_from(["up", "down", "unknown"]),
    start_offset=st.integers(0, 10),
    length=st.integers(0, 35),
)
def test_measured_downtime_matches_the_minute_by_minute_twin(  # type: ignore[no-untyped-def]
    data,
    rule_kind,
    slice_minutes,
    threshold,
    min_requests,
    majority,
    no_data,
    start_offset,
    length,
) -> None:
    rule = DownRuleSpec(
        slice=slice_minutes * MINUTE, error_rate_above=threshold, min_requests=min_requests,
        probe_majority=majority,
    )  # fmt: skip
    start = T0 + start_offset * MINUTE
    end = start + length * MINUTE
    regions = ["a", "b"]
    found = measured_downtime(
        data, regions=regions, region_rule=rule_kind, rule=rule, no_data=no_data,
        start=start, end=end,
    )  # fmt: skip
    expected = IntervalSet(
        Interval(m, m + MINUTE) for m in _twin(data, regions, rule_kind, rule, no_data, start, end)
    )
    assert found.down == expected


latencies = st.lists(
    st.floats(min_value=0, max_value=60_000, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=300,
)


@settings(max_examples=scaled(200), deadline=None)
@given(values=latencies, q=st.sampled_from([0.0, 0.5, 0.9, 0.95, 0.99, 1.0]))
def test_quantiles_equal_ddsketch_and_stay_within_the_relative_bound(
    values: list[float], q: float
) -> None:
    ours = LatencySketch()
    theirs = DDSketch(RELATIVE_ACCURACY)
    for value in values:
        ours.add(value)
        theirs.add(value)
    quantile = ours.quantile(q)
    assert quantile is not None
    assert quantile == pytest.approx(theirs.get_quantile_value(q), rel=1e-12, abs=1e-12)
    exact = sorted(values)[math.floor(q * (len(values) - 1))]
    if exact >= MIN_INDEXABLE:
        assert abs(quantile - exact) <= RELATIVE_ACCURACY * exact * (1 + 1e-9)
    else:
        assert quantile == 0.0


@settings(max_examples=scaled(100), deadline=None)
@given(parts=st.lists(latencies, min_size=1, max_size=5))
def test_merged_minute_sketches_equal_one_sketch_of_everything(parts: list[list[float]]) -> None:
    pieces = []
    for part in parts:
        sketch = LatencySketch()
        for value in part:
            sketch.add(value)
        pieces.append(LatencySketch.from_json(sketch.to_json()))
    whole = LatencySketch()
    for value in (v for part in parts for v in part):
        whole.add(value)
    assert merged(pieces) == whole
    assert merged(reversed(pieces)) == whole


def test_a_malformed_sketch_is_refused() -> None:
    for bad in ({"bins": {"x": 1}}, {"bins": {"1": 0}}, {"zero": -1}, {"bins": [], "zero": 0},
                {"extra": 1}, {"bins": {"1": True}}):  # fmt: skip
        with pytest.raises(ValueError, match="latency"):
            LatencySketch.from_json(bad)


@settings(max_examples=scaled(300), deadline=None)
@given(value=st.floats(min_value=MIN_INDEXABLE, max_value=1e300, allow_nan=False))
def test_the_inlined_ingest_key_mapping_equals_the_sketchs(value: float) -> None:
    from slakeeper.services.ingest import _MULTIPLIER

    assert math.ceil(math.log(value, 2) * _MULTIPLIER) == key_of(value)


spans = st.lists(st.tuples(st.integers(0, 600), st.integers(1, 60)), max_size=30)


@settings(max_examples=scaled(300), deadline=None)
@given(raw=spans, lo=st.integers(-10, 650), length=st.integers(-5, 700))
def test_clip_by_bisection_equals_intersecting_with_the_range(
    raw: list[tuple[int, int]], lo: int, length: int
) -> None:
    """``clip`` bisects and keeps the inner intervals; its twin is the plain intersection."""
    found = IntervalSet(Interval(T0 + a * MINUTE, T0 + (a + n) * MINUTE) for a, n in raw)
    start, end = T0 + lo * MINUTE, T0 + (lo + length) * MINUTE
    twin = found & IntervalSet.single(start, end) if end > start else IntervalSet()
    assert found.clip(start, end) == twin
    seconds_inside = {
        s for i in found for s in range(int((i.start - T0).total_seconds()),
                                        int((i.end - T0).total_seconds()), 30)
        if start <= T0 + timedelta(seconds=s) < end
    }  # fmt: skip
    clipped = found.clip(start, end)
    assert {s for s in seconds_inside if clipped.contains(T0 + timedelta(seconds=s))} == (
        seconds_inside
    )
