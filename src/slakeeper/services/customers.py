"""Customers and their contracts, checked against the active policy; optimistic versions."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from slakeeper.policy.errors import PolicyError, did_you_mean, one_of
from slakeeper.policy.overrides import overrides_from_mapping
from slakeeper.services import audit
from slakeeper.services.errors import (
    ConflictError,
    Forbidden,
    Invalid,
    NotFound,
    PreconditionFailed,
)
from slakeeper.services.policy_versions import active_policy
from slakeeper.services.ports import Conflict, UnitOfWork
from slakeeper.services.records import Customer, Page, Principal, iso

BILLING_PERIODS = ("monthly",)


def customer_json(customer: Customer) -> dict[str, Any]:
    def money(value: Decimal | None) -> str | None:
        return None if value is None else format(value, "f")

    return {
        "id": customer.id,
        "name": customer.name,
        "plan": customer.plan,
        "monthly_fee": money(customer.monthly_fee),
        "annual_fee": money(customer.annual_fee),
        "currency": customer.currency,
        "billing_period": customer.billing_period,
        "timezone": customer.timezone,
        "contract_start": iso(customer.contract_start),
        "contract_end": iso(customer.contract_end),
        "overrides": customer.overrides,
        "version": customer.version,
    }


def _check(uow: UnitOfWork, customer: Customer) -> None:
    policy = active_policy(uow, customer.org_id)
    plans = [plan.id for plan in policy.plans]
    errors: list[dict[str, object]] = []
    if customer.plan not in plans:
        errors.append(
            {
                "field": "plan",
                "message": f"unknown plan '{customer.plan}'{did_you_mean(customer.plan, plans)} "
                f"(the active policy has {one_of(plans)})",
            }
        )
    if customer.monthly_fee is None and customer.annual_fee is None:
        errors.append({"field": "monthly_fee", "message": "give monthly_fee or annual_fee"})
    if (
        customer.contract_start is not None
        and customer.contract_end is not None
        and customer.contract_end <= customer.contract_start
    ):
        errors.append({"field": "contract_end", "message": "the contract ends before it starts"})
    if customer.overrides and customer.plan in plans:
        try:
            overrides_from_mapping(
                customer.overrides, policy, customer.plan, customer.name, "overrides"
            )
        except PolicyError as exc:
            errors += [
                {"field": f"overrides.{p.key}".rstrip("."), "message": p.message}
                for p in exc.problems
            ]
    if errors:
        raise Invalid("the customer does not fit the active policy", errors)


def _visible(principal: Principal, customer_id: str) -> None:
    if principal.customer_id is not None and principal.customer_id != customer_id:
        # Another customer's data does not exist for a customer-scoped key.
        raise NotFound(f"customer '{customer_id}' does not exist")


def create(uow: UnitOfWork, principal: Principal, customer: Customer, now: datetime) -> Customer:
    if principal.customer_id is not None:
        raise Forbidden("a customer-scoped key cannot create customers")
    stored = replace(customer, org_id=principal.org_id, version=1, created_at=now, updated_at=now)
    _check(uow, stored)
    try:
        uow.customers.add(stored)
    except Conflict:
        raise ConflictError(f"customer '{customer.id}' exists already") from None
    audit.record(
        uow, principal, "customer.created", "customer", stored.id, None, customer_json(stored), now
    )
    return stored


def get(uow: UnitOfWork, principal: Principal, customer_id: str) -> Customer:
    _visible(principal, customer_id)
    customer = uow.customers.get(principal.org_id, customer_id)
    if customer is None:
        raise NotFound(f"customer '{customer_id}' does not exist")
    return customer


def listing(uow: UnitOfWork, principal: Principal, after: str | None, limit: int) -> Page[Customer]:
    if principal.customer_id is not None:
        own = uow.customers.get(principal.org_id, principal.customer_id)
        items = [own] if own is not None and (after is None or own.id > after) else []
        return Page(items, None)
    items = list(uow.customers.list(principal.org_id, after, limit + 1))
    more = len(items) > limit
    items = items[:limit]
    return Page(items, items[-1].id if more and items else None)


def update(
    uow: UnitOfWork,
    principal: Principal,
    customer_id: str,
    changes: dict[str, Any],
    expected_version: int | None,
    now: datetime,
) -> Customer:
    """Apply ``changes``; ``expected_version`` (If-Match) must be the current version if given.

    Without If-Match the update still cannot lose another writer's change: it is applied to the
    version read in this transaction, and fails with a conflict if that moved on meanwhile.
    """
    current = get(uow, principal, customer_id)
    if expected_version is not None and expected_version != current.version:
        raise PreconditionFailed(
            f"customer '{customer_id}' is at version {current.version}, not {expected_version}"
        )
    updated = replace(current, **changes, version=current.version + 1, updated_at=now)
    _check(uow, updated)
    if not uow.customers.update(updated, current.version):
        raise ConflictError(
            f"customer '{customer_id}' was changed by someone else meanwhile: read it again"
        )
    audit.record(
        uow,
        principal,
        "customer.updated",
        "customer",
        customer_id,
        customer_json(current),
        customer_json(updated),
        now,
    )
    return updated
