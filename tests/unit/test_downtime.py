from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import scaled
from slakeeper.domain.downtime import (
    ComponentRule,
    RegionRule,
    component_downtime,
    service_downtime,
)
from slakeeper.domain.intervals import IntervalSet

DAY = datetime(2026, 10, 5, tzinfo=UTC)
NOTHING = IntervalSet()


def at(hour: int, minute: int = 0) -> datetime:
    return DAY + timedelta(hours=hour, minutes=minute)


def down(*spans: tuple[datetime, datetime]) -> IntervalSet:
    return IntervalSet.of(*spans)


US_EAST = down((at(10), at(10, 40)))
EU_WEST = down((at(10, 30), at(11)))


def test_any_region_counts_only_the_minutes_when_every_region_is_down() -> None:
    result = component_downtime(
        {"us-east": US_EAST, "eu-west": EU_WEST},
        NOTHING,
        ["us-east", "eu-west"],
        RegionRule.ANY_REGION,
    )
    assert result.total() == timedelta(minutes=10)
    assert result == down((at(10, 30), at(10, 40)))


def test_all_regions_counts_the_minutes_when_any_region_is_down() -> None:
    result = component_downtime(
        {"us-east": US_EAST, "eu-west": EU_WEST},
        NOTHING,
        ["us-east", "eu-west"],
        RegionRule.ALL_REGIONS,
    )
    assert result.total() == timedelta(minutes=60)


def test_downtime_recorded_without_a_region_is_down_in_every_region() -> None:
    incident = down((at(12), at(12, 15)))
    result = component_downtime(
        {"us-east": US_EAST}, incident, ["us-east", "eu-west"], RegionRule.ANY_REGION
    )
    assert result == incident


def test_a_region_that_reported_nothing_is_up() -> None:
    result = component_downtime(
        {"us-east": US_EAST}, NOTHING, ["us-east", "eu-west"], RegionRule.ANY_REGION
    )
    assert result == NOTHING


def test_a_region_that_is_not_measured_is_ignored() -> None:
    result = component_downtime(
        {"us-east": US_EAST, "ap-south": EU_WEST}, NOTHING, ["us-east"], RegionRule.ALL_REGIONS
    )
    assert result == US_EAST


@pytest.mark.parametrize("rule", list(RegionRule))
def test_a_single_region_gives_the_same_downtime_under_either_rule(rule: RegionRule) -> None:
    assert component_downtime({"us-east": US_EAST}, NOTHING, ["us-east"], rule) == US_EAST


def test_a_component_needs_at_least_one_region() -> None:
    with pytest.raises(ValueError, match="region"):
        component_downtime({}, NOTHING, [], RegionRule.ANY_REGION)


def test_a_service_is_down_when_any_of_its_components_is_down() -> None:
    result = service_downtime(
        {"ingest": US_EAST, "dashboard": EU_WEST}, ["ingest", "dashboard"], ComponentRule.ANY_OF
    )
    assert result.total() == timedelta(minutes=60)


def test_a_service_is_down_only_when_all_of_its_components_are_down_under_all_of() -> None:
    result = service_downtime(
        {"ingest": US_EAST, "dashboard": EU_WEST}, ["ingest", "dashboard"], ComponentRule.ALL_OF
    )
    assert result.total() == timedelta(minutes=10)


def test_a_component_without_downtime_records_was_up() -> None:
    result = service_downtime({"ingest": US_EAST}, ["ingest", "dashboard"], ComponentRule.ALL_OF)
    assert result == NOTHING


def test_a_service_needs_at_least_one_component() -> None:
    with pytest.raises(ValueError, match="component"):
        service_downtime({}, [], ComponentRule.ANY_OF)


# -- property: the rules against per-second sets -------------------------------------------
spans = st.lists(
    st.tuples(st.integers(0, 600), st.integers(0, 120)), max_size=4
)  # (start second, length in seconds) within ten minutes


def to_set(raw: list[tuple[int, int]]) -> IntervalSet:
    return IntervalSet.of(
        *((DAY + timedelta(seconds=s), DAY + timedelta(seconds=s + n)) for s, n in raw)
    )


def to_seconds(raw: list[tuple[int, int]]) -> set[int]:
    return {second for s, n in raw for second in range(s, s + n)}


@settings(max_examples=scaled(100), deadline=None)
@given(st.lists(spans, min_size=1, max_size=3), spans, st.sampled_from(list(RegionRule)))
def test_region_rules_agree_with_counting_seconds(
    regions: list[list[tuple[int, int]]], everywhere: list[tuple[int, int]], rule: RegionRule
) -> None:
    names = [f"r{index}" for index in range(len(regions))]
    result = component_downtime(
        {name: to_set(raw) for name, raw in zip(names, regions, strict=True)},
        to_set(everywhere),
        names,
        rule,
    )
    per_region = [to_seconds(raw) | to_seconds(everywhere) for raw in regions]
    expected = (
        set.intersection(*per_region) if rule is RegionRule.ANY_REGION else set.union(*per_region)
    )
    assert result.total() == timedelta(seconds=len(expected))
    assert all(result.contains(DAY + timedelta(seconds=second)) for second in expected)
