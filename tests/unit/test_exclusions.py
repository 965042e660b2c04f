from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import scaled
from slakeeper.domain.downtime import ComponentRule, service_downtime
from slakeeper.domain.exclusions import (
    Exclusion,
    ExclusionCategory,
    ExclusionDecision,
    Maintenance,
    applicable_exclusions,
    maintenance_exclusion,
    service_excluded_windows,
)
from slakeeper.domain.intervals import Interval, IntervalSet, NaiveDatetimeError
from slakeeper.domain.uptime import Accounting, compute_uptime

DAY = datetime(2026, 10, 5, tzinfo=UTC)
NOTICE = timedelta(hours=48)
ALL_CATEGORIES = frozenset(ExclusionCategory)


def at(hour: int, minute: int = 0) -> datetime:
    return DAY + timedelta(hours=hour, minutes=minute)


def maintenance(
    notice: timedelta, components: frozenset[str] = frozenset({"ingest"})
) -> Maintenance:
    return Maintenance(components, Interval(at(10), at(11)), at(10) - notice, "database upgrade")


def exclusion(
    category: ExclusionCategory,
    *,
    customer: str | None = None,
    components: frozenset[str] | None = None,
) -> Exclusion:
    return Exclusion(category, IntervalSet.of((at(12), at(13))), components, customer, "why")


def decide(
    exclusions: Sequence[Exclusion],
    announced: Sequence[Maintenance] = (),
    *,
    honoured: frozenset[ExclusionCategory] = ALL_CATEGORIES,
    customer: str = "acme",
) -> ExclusionDecision:
    return applicable_exclusions(
        exclusions,
        announced,
        customer=customer,
        components=["ingest", "dashboard"],
        honoured=honoured,
        min_notice=NOTICE,
    )


def test_maintenance_announced_72h_ahead_excludes_its_window() -> None:
    decision = maintenance_exclusion(maintenance(timedelta(hours=72)), NOTICE)
    assert decision.applied
    assert decision.exclusion is not None
    assert decision.exclusion.category is ExclusionCategory.SCHEDULED_MAINTENANCE
    assert decision.exclusion.intervals == IntervalSet.of((at(10), at(11)))
    assert decision.exclusion.components == frozenset({"ingest"})


def test_maintenance_announced_exactly_the_minimum_notice_ahead_is_excluded() -> None:
    assert maintenance_exclusion(maintenance(NOTICE), NOTICE).applied


def test_maintenance_announced_late_excludes_nothing_and_says_why() -> None:
    decision = maintenance_exclusion(maintenance(timedelta(hours=24)), NOTICE)
    assert not decision.applied
    assert decision.exclusion is None
    assert decision.reason == "announced 24h before start; 48h notice required"


def test_maintenance_announced_after_it_started_says_so() -> None:
    decision = maintenance_exclusion(maintenance(-timedelta(minutes=90)), NOTICE)
    assert decision.reason == "announced 1h 30m after start; 48h notice required"


def test_a_maintenance_announcement_must_be_timezone_aware() -> None:
    with pytest.raises(NaiveDatetimeError):
        Maintenance(frozenset({"ingest"}), Interval(at(10), at(11)), datetime(2026, 10, 1))


def test_a_maintenance_overrun_past_the_announced_end_counts_as_downtime() -> None:
    decision = decide([], [maintenance(timedelta(hours=72))])
    result = compute_uptime(
        IntervalSet.of((DAY, DAY + timedelta(days=1))),
        IntervalSet.of((at(10), at(11, 30))),
        decision.window("ingest"),
        accounting=Accounting.COUNT_AS_UP,
        target=None,
    )
    assert result.excluded == timedelta(hours=1)
    assert result.counted_downtime == timedelta(minutes=30)


def test_late_maintenance_is_listed_as_ignored_with_the_notice_it_had() -> None:
    late = maintenance(timedelta(hours=24))
    decision = decide([], [late])
    assert decision.applied == ()
    assert decision.ignored == ((late, "announced 24h before start; 48h notice required"),)
    assert decision.window("ingest") == IntervalSet()


def test_a_customer_scoped_exclusion_applies_only_to_that_customer() -> None:
    theirs = exclusion(ExclusionCategory.CUSTOMER_CAUSED, customer="acme")
    assert decide([theirs], customer="acme").applied == (theirs,)
    other = decide([theirs], customer="globex")
    assert other.applied == ()
    assert other.ignored == ()


def test_a_customer_caused_exclusion_must_name_its_customer() -> None:
    with pytest.raises(ValueError, match="customer"):
        exclusion(ExclusionCategory.CUSTOMER_CAUSED)


def test_a_category_the_policy_does_not_honour_is_ignored_with_the_reason() -> None:
    force_majeure = exclusion(ExclusionCategory.FORCE_MAJEURE)
    decision = decide([force_majeure], honoured=frozenset({ExclusionCategory.THIRD_PARTY}))
    assert decision.applied == ()
    assert decision.ignored == ((force_majeure, "the policy does not honour force-majeure"),)


def test_maintenance_is_ignored_when_the_policy_does_not_honour_maintenance() -> None:
    announced = maintenance(timedelta(hours=72))
    decision = decide([], [announced], honoured=frozenset({ExclusionCategory.FORCE_MAJEURE}))
    assert decision.ignored == ((announced, "the policy does not honour scheduled-maintenance"),)


def test_exclusions_of_components_that_are_not_measured_are_not_relevant() -> None:
    elsewhere = exclusion(ExclusionCategory.THIRD_PARTY, components=frozenset({"eval-engine"}))
    announced = maintenance(timedelta(hours=72), frozenset({"eval-engine"}))
    decision = decide([elsewhere], [announced])
    assert decision.applied == ()
    assert decision.ignored == ()


def test_the_window_of_a_component_joins_the_exclusions_that_cover_it() -> None:
    everything = exclusion(ExclusionCategory.FORCE_MAJEURE)
    decision = decide([everything], [maintenance(timedelta(hours=72))])
    assert decision.window("ingest") == IntervalSet.of((at(10), at(11)), (at(12), at(13)))
    assert decision.window("dashboard") == IntervalSet.of((at(12), at(13)))


def test_an_exclusion_with_an_empty_component_set_is_refused() -> None:
    with pytest.raises(ValueError, match="None means all"):
        exclusion(ExclusionCategory.BETA, components=frozenset())


def test_one_components_maintenance_does_not_hide_another_components_outage() -> None:
    decision = decide([], [maintenance(timedelta(hours=72))])
    per_component = {
        "ingest": IntervalSet.of((at(10), at(11))),
        "dashboard": IntervalSet.of((at(10, 30), at(11))),
    }
    components = ["ingest", "dashboard"]
    windows = service_excluded_windows(decision, per_component, components, ComponentRule.ANY_OF)
    result = compute_uptime(
        IntervalSet.of((DAY, DAY + timedelta(days=1))),
        service_downtime(per_component, components, ComponentRule.ANY_OF),
        windows,
        accounting=Accounting.COUNT_AS_UP,
        target=Fraction(999, 1000),
    )
    assert result.excluded == timedelta(minutes=30)
    assert result.counted_downtime == timedelta(minutes=30)


# -- property: service exclusions against per-second sets ---------------------------------
spans = st.lists(st.tuples(st.integers(0, 600), st.integers(0, 120)), max_size=3)


def to_set(raw: list[tuple[int, int]]) -> IntervalSet:
    return IntervalSet.of(
        *((DAY + timedelta(seconds=s), DAY + timedelta(seconds=s + n)) for s, n in raw)
    )


def to_seconds(raw: list[tuple[int, int]]) -> set[int]:
    return {second for s, n in raw for second in range(s, s + n)}


@settings(max_examples=scaled(100), deadline=None)
@given(spans, spans, spans, spans, spans, st.sampled_from(list(ComponentRule)))
def test_service_exclusions_agree_with_counting_seconds(
    down_a: list[tuple[int, int]],
    down_b: list[tuple[int, int]],
    excluded_a: list[tuple[int, int]],
    excluded_b: list[tuple[int, int]],
    excluded_all: list[tuple[int, int]],
    rule: ComponentRule,
) -> None:
    records = [
        Exclusion(ExclusionCategory.THIRD_PARTY, to_set(excluded_a), frozenset({"a"}), None, ""),
        Exclusion(ExclusionCategory.THIRD_PARTY, to_set(excluded_b), frozenset({"b"}), None, ""),
        Exclusion(ExclusionCategory.FORCE_MAJEURE, to_set(excluded_all), None, None, ""),
    ]
    decision = applicable_exclusions(
        records,
        [],
        customer="acme",
        components=["a", "b"],
        honoured=ALL_CATEGORIES,
        min_notice=NOTICE,
    )
    per_component = {"a": to_set(down_a), "b": to_set(down_b)}
    windows = service_excluded_windows(decision, per_component, ["a", "b"], rule)
    result = compute_uptime(
        IntervalSet.of((DAY, DAY + timedelta(hours=1))),
        service_downtime(per_component, ["a", "b"], rule),
        windows,
        accounting=Accounting.COUNT_AS_UP,
        target=None,
    )
    combine = set.union if rule is ComponentRule.ANY_OF else set.intersection
    everywhere = to_seconds(excluded_all)
    down = combine(to_seconds(down_a), to_seconds(down_b))
    counted = combine(
        to_seconds(down_a) - to_seconds(excluded_a) - everywhere,
        to_seconds(down_b) - to_seconds(excluded_b) - everywhere,
    )
    assert result.counted_downtime == timedelta(seconds=len(counted))
    assert result.excluded == timedelta(seconds=len(down - counted))
