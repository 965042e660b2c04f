"""The SDK's latency keys are DDSketch's, bit for bit, and read back to DDSketch's quantiles."""

from __future__ import annotations

import math
import random
import sys
from collections import Counter
from datetime import UTC, datetime

import pytest
from ddsketch import DDSketch
from ddsketch.mapping import LogarithmicMapping
from hypothesis import example, given
from hypothesis import strategies as st

from conftest import scaled
from sdk.receiver import API_KEY
from slakeeper.sdk import Reporter, sketch

T0 = datetime(2026, 11, 22, 18, 57, tzinfo=UTC)

MAPPING = LogarithmicMapping(0.01)
positive = st.floats(min_value=0.0, max_value=sys.float_info.max / 1.03, exclude_min=True)


def _near_a_boundary(power: int, steps: int) -> float:
    """A float a few ulps from the boundary between two bins, where rounding decides the key."""
    value = math.pow(2.0, power / MAPPING._multiplier)
    for _ in range(abs(steps)):
        value = math.nextafter(value, math.inf if steps > 0 else 0.0)
    return value


#: Where a key computed any other way (``log2``, another operand order) goes wrong first.
boundaries = st.builds(
    _near_a_boundary, st.integers(min_value=-2000, max_value=3000), st.integers(-4, 4)
)


def test_constants_are_the_mappings() -> None:
    assert MAPPING.gamma == sketch.GAMMA
    assert MAPPING._multiplier == sketch.MULTIPLIER
    assert MAPPING.min_possible == sketch.MIN_INDEXABLE
    assert MAPPING.max_possible == sketch.MAX_INDEXABLE


@given(value=positive)
@example(value=sketch.MIN_INDEXABLE)
@example(value=sketch.MAX_INDEXABLE)
@example(value=1.0)
@example(value=1.02)
@example(value=5e-324)
@example(value=sys.float_info.min)
@example(value=1.4623031129344288)  # log2() would give 19, not 20
@example(value=1.8221552453176857)  # log2() would give 31, not 30
def test_key_equals_ddsketch_for_any_positive_float(value: float) -> None:
    if value < MAPPING.min_possible:
        assert sketch.key(value) is None
    else:
        assert sketch.key(value) == MAPPING.key(value)


@given(value=boundaries)
def test_key_equals_ddsketch_at_bin_boundaries(value: float) -> None:
    assert sketch.key(value) == MAPPING.key(value)


@given(values=st.lists(st.one_of(boundaries, positive, st.just(0.0)), min_size=1, max_size=40))
def test_the_reporter_bins_latencies_with_ddsketch_keys(values: list[float]) -> None:
    reporter = Reporter("http://127.0.0.1:9", API_KEY, component="api", start=False)
    try:
        for value in values:
            reporter.record(200, value, at=T0)
        (bucket,) = reporter._buckets.values()
        indexable = [v for v in values if v >= MAPPING.min_possible]
        assert bucket.bins == Counter(MAPPING.key(v) for v in indexable)
        assert bucket.zero == len(values) - len(indexable)
    finally:
        reporter.close(0)


@given(value=st.floats(min_value=1e-6, max_value=1e9))
def test_key_equals_ddsketch_for_latencies(value: float) -> None:
    key = sketch.key(value)
    assert key == MAPPING.key(value)
    assert sketch.value(key) == MAPPING.value(key)
    assert abs(sketch.value(key) - value) <= 0.01 * value * (1 + 1e-9)


@given(value=st.integers(min_value=1, max_value=10**12))
def test_integer_latencies_map_like_floats(value: int) -> None:
    assert sketch.key(value) == MAPPING.key(value) == MAPPING.key(float(value))


@pytest.mark.parametrize("value", [0.0, -1.0, -math.inf, sys.float_info.min, 1e-310])
def test_below_the_smallest_indexable_value_is_zero(value: float) -> None:
    assert sketch.key(value) is None


@pytest.mark.parametrize("value", [math.inf, math.nan, sys.float_info.max])
def test_unindexable_values_raise(value: float) -> None:
    with pytest.raises(ValueError, match="cannot be indexed"):
        sketch.key(value)


def _sdk_sketch(values: list[float]) -> DDSketch:
    """A DDSketch filled from the SDK's bins and zero count, the way the server reads them."""
    bins: dict[int, int] = {}
    zero = 0
    for value in values:
        key = sketch.key(value)
        if key is None:
            zero += 1
        else:
            bins[key] = bins.get(key, 0) + 1
    rebuilt = DDSketch(0.01)
    for key, count in bins.items():
        rebuilt._store.add(key, count)
    rebuilt._zero_count += zero
    rebuilt._count += sum(bins.values()) + zero
    return rebuilt


latencies = st.lists(
    st.one_of(st.floats(min_value=0.001, max_value=120_000.0), st.just(0.0)),
    min_size=1,
    max_size=400,
)


@given(values=latencies)
def test_quantiles_from_the_bins_equal_ddsketch_on_the_raw_values(values: list[float]) -> None:
    direct = DDSketch(0.01)
    for value in values:
        direct.add(value)
    rebuilt = _sdk_sketch(values)
    for q in (0.5, 0.9, 0.95, 0.99, 1.0):
        assert rebuilt.get_quantile_value(q) == direct.get_quantile_value(q)


def test_p95_of_a_realistic_minute_is_within_one_percent() -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(3.5, 0.8) for _ in range(scaled(20_000))]
    rebuilt = _sdk_sketch(values)
    direct = DDSketch(0.01)
    for value in values:
        direct.add(value)
    p95 = rebuilt.get_quantile_value(0.95)
    assert p95 is not None
    assert p95 == direct.get_quantile_value(0.95)
    exact = sorted(values)[round(0.95 * (len(values) - 1))]
    assert abs(p95 - exact) <= 0.01 * exact
