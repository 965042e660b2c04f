"""Downtime of a component across regions, and of a service across components (DOMAIN 2)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

from slakeeper.domain.intervals import IntervalSet, intersect_all, union_all


class RegionRule(StrEnum):
    """How the regions' views combine into the component's downtime."""

    ANY_REGION = "any-region"
    """Up when reachable from at least one region: down only when every region is down."""
    ALL_REGIONS = "all-regions"
    """Up only when every region reaches it: down when any region is down."""


class ComponentRule(StrEnum):
    """How the components' downtime combines into the service's downtime."""

    ANY_OF = "any-of"
    """The service is down when any of its components is down (the default)."""
    ALL_OF = "all-of"
    """The service is down only when all of its components are down."""


def component_downtime(
    per_region: Mapping[str, IntervalSet],
    everywhere: IntervalSet,
    regions: Sequence[str],
    rule: RegionRule,
) -> IntervalSet:
    """The downtime of one component measured from ``regions``.

    ``everywhere`` is downtime recorded without a region (e.g. a declared incident): the
    component is down in every region then. A region that reported nothing is up; regions in
    ``per_region`` but not in ``regions`` are not measured. ``regions`` must not be empty.
    """
    if not regions:
        raise ValueError("a component is measured from at least one region")
    empty = IntervalSet()
    region_downtime = [per_region.get(region, empty) | everywhere for region in regions]
    if rule is RegionRule.ANY_REGION:
        return intersect_all(region_downtime)
    return union_all(region_downtime)


def service_downtime(
    per_component: Mapping[str, IntervalSet],
    components: Sequence[str],
    rule: ComponentRule,
) -> IntervalSet:
    """The downtime of a service measured on ``components`` (a missing one had no downtime).

    ``components`` must not be empty.
    """
    if not components:
        raise ValueError("a service is measured on at least one component")
    empty = IntervalSet()
    downtime = [per_component.get(component, empty) for component in components]
    if rule is ComponentRule.ALL_OF:
        return intersect_all(downtime)
    return union_all(downtime)
