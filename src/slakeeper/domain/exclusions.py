"""Exclusions: downtime that does not count against the SLA (DOMAIN 3).

An :class:`Exclusion` is a record (category, interval set, scope, reason). Scheduled maintenance
arrives as a :class:`Maintenance` announcement and becomes an exclusion only when it was
announced early enough, and only for the announced window: downtime after the announced end is
simply outside the window and counts. :func:`applicable_exclusions` decides, for one customer
and the measured components, which records apply and which are ignored (with the reason, for
the report).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from slakeeper.domain.downtime import ComponentRule, service_downtime
from slakeeper.domain.intervals import ZERO, Interval, IntervalSet, require_aware, union_all


class ExclusionCategory(StrEnum):
    SCHEDULED_MAINTENANCE = "scheduled-maintenance"
    FORCE_MAJEURE = "force-majeure"
    CUSTOMER_CAUSED = "customer-caused"
    THIRD_PARTY = "third-party"
    BETA = "beta"


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Excluded time of ``components`` (``None``: all) for ``customer`` (``None``: all)."""

    category: ExclusionCategory
    intervals: IntervalSet
    components: frozenset[str] | None
    customer: str | None
    reason: str

    def __post_init__(self) -> None:
        if self.components is not None:
            if not self.components:
                raise ValueError("an exclusion names at least one component (None means all)")
            object.__setattr__(self, "components", frozenset(self.components))
        if self.category is ExclusionCategory.CUSTOMER_CAUSED and self.customer is None:
            raise ValueError("a customer-caused exclusion must name its customer")

    def covers(self, component: str) -> bool:
        return self.components is None or component in self.components


@dataclass(frozen=True, slots=True)
class Maintenance:
    """A maintenance window announced at ``announced_at``."""

    components: frozenset[str]
    window: Interval
    announced_at: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        if not self.components:
            raise ValueError("a maintenance names at least one component")
        object.__setattr__(self, "components", frozenset(self.components))
        object.__setattr__(
            self, "announced_at", require_aware(self.announced_at, "maintenance announcement")
        )

    @property
    def notice(self) -> timedelta:
        """How long before the window's start it was announced (negative: after the start)."""
        return self.window.start - self.announced_at


@dataclass(frozen=True, slots=True)
class MaintenanceDecision:
    """Whether a maintenance excludes its window; ``reason`` says why or why not."""

    maintenance: Maintenance
    exclusion: Exclusion | None
    reason: str

    @property
    def applied(self) -> bool:
        return self.exclusion is not None


def maintenance_exclusion(maintenance: Maintenance, min_notice: timedelta) -> MaintenanceDecision:
    """The exclusion of ``maintenance``'s announced window, if announced ``min_notice`` ahead.

    Announced at least ``min_notice`` before the start: the announced window is excluded (and
    nothing after its end). Later than that: nothing is excluded, and the reason says by how
    much notice it missed ("announced 24h before start; 48h notice required").
    """
    if min_notice < ZERO:
        raise ValueError(f"minimum notice must not be negative, not {min_notice}")
    notice = maintenance.notice
    if notice < min_notice:
        return MaintenanceDecision(
            maintenance,
            None,
            f"{_describe_notice(notice)}; {_format_duration(min_notice)} notice required",
        )
    exclusion = Exclusion(
        category=ExclusionCategory.SCHEDULED_MAINTENANCE,
        intervals=IntervalSet((maintenance.window,)),
        components=maintenance.components,
        customer=None,
        reason=maintenance.reason or f"scheduled maintenance, {_describe_notice(notice)}",
    )
    return MaintenanceDecision(maintenance, exclusion, _describe_notice(notice))


@dataclass(frozen=True, slots=True)
class ExclusionDecision:
    """The exclusions that apply to one customer's measurement, and those ignored (and why).

    Records for other customers or for components that are not measured are not relevant and
    appear in neither list.
    """

    applied: tuple[Exclusion, ...]
    ignored: tuple[tuple[Exclusion | Maintenance, str], ...]

    def window(self, component: str) -> IntervalSet:
        """All excluded time of ``component`` (the union of the applied exclusions covering it)."""
        return union_all(
            exclusion.intervals for exclusion in self.applied if exclusion.covers(component)
        )


def applicable_exclusions(
    exclusions: Iterable[Exclusion],
    maintenance: Iterable[Maintenance],
    *,
    customer: str,
    components: Collection[str],
    honoured: Collection[ExclusionCategory],
    min_notice: timedelta,
) -> ExclusionDecision:
    """Sort exclusions and maintenance into applied and ignored for ``customer``.

    - another customer's exclusion, or one about none of ``components``: not relevant (omitted);
    - a category the policy does not ``honour``: ignored, "the policy does not honour ...";
    - maintenance announced with less than ``min_notice``: ignored, with the notice it had.

    An :class:`Exclusion` of category ``scheduled-maintenance`` passed in ``exclusions`` is
    taken as already vetted; notice is checked on :class:`Maintenance` announcements.
    """
    measured = frozenset(components)
    applied: list[Exclusion] = []
    ignored: list[tuple[Exclusion | Maintenance, str]] = []
    for exclusion in exclusions:
        if exclusion.customer is not None and exclusion.customer != customer:
            continue
        if exclusion.components is not None and not exclusion.components & measured:
            continue
        if exclusion.category not in honoured:
            ignored.append((exclusion, _not_honoured(exclusion.category)))
        else:
            applied.append(exclusion)
    for announced in maintenance:
        if not announced.components & measured:
            continue
        if ExclusionCategory.SCHEDULED_MAINTENANCE not in honoured:
            ignored.append((announced, _not_honoured(ExclusionCategory.SCHEDULED_MAINTENANCE)))
            continue
        decision = maintenance_exclusion(announced, min_notice)
        if decision.exclusion is None:
            ignored.append((announced, decision.reason))
        else:
            applied.append(decision.exclusion)
    return ExclusionDecision(tuple(applied), tuple(ignored))


def service_excluded_windows(
    decision: ExclusionDecision,
    per_component_downtime: Mapping[str, IntervalSet],
    components: Sequence[str],
    rule: ComponentRule,
) -> IntervalSet:
    """The excluded windows to give ``compute_uptime`` for a service of several components.

    Each component's exclusions remove only that component's downtime: under ``any-of``, the
    maintenance of one component does not hide another component's outage at the same time.
    The result is the service downtime that is excluded (service downtime minus the service
    downtime rebuilt from each component's counted downtime).
    """
    downtime = service_downtime(per_component_downtime, components, rule)
    empty = IntervalSet()
    counted_per_component = {
        component: per_component_downtime.get(component, empty) - decision.window(component)
        for component in components
    }
    return downtime - service_downtime(counted_per_component, components, rule)


def _not_honoured(category: ExclusionCategory) -> str:
    return f"the policy does not honour {category.value}"


def _describe_notice(notice: timedelta) -> str:
    if notice > ZERO:
        return f"announced {_format_duration(notice)} before start"
    if notice < ZERO:
        return f"announced {_format_duration(-notice)} after start"
    return "announced at start"


def _format_duration(duration: timedelta) -> str:
    """``48h``, ``47h 30m``, ``12m 5s``, ``0.5s``: hours, minutes and seconds that are not 0."""
    total_micro = duration // timedelta(microseconds=1)
    hours, rest = divmod(total_micro, 3_600_000_000)
    minutes, micro = divmod(rest, 60_000_000)
    whole_seconds, fraction = divmod(micro, 1_000_000)
    second_text = str(whole_seconds)
    if fraction:
        second_text += f".{fraction:06d}".rstrip("0")
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{second_text}s" if micro else "",
    ]
    return " ".join(part for part in parts if part) or "0h"
