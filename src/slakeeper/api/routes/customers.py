"""Customers and their contracts. ``PATCH`` takes ``If-Match`` (the ``ETag`` version)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Response
from fastapi import Path as PathParam

from slakeeper.api.deps import ContainerDep, Reader, Writer
from slakeeper.api.routes.common import Cursor, Limit, after, known_slug
from slakeeper.api.schemas import (
    CustomerCreate,
    CustomerPublic,
    CustomerUpdate,
    Page,
    encode_cursor,
)
from slakeeper.services import customers
from slakeeper.services.records import Customer

router = APIRouter(prefix="/customers", tags=["customers"])


def _public(customer: Customer) -> CustomerPublic:
    return CustomerPublic.model_validate(customers.customer_json(customer))


CustomerId = Annotated[str, PathParam(max_length=64, description="The customer's id.")]


def _etag(customer: Customer) -> str:
    return f'"{customer.version}"'


@router.post("", response_model=CustomerPublic, status_code=201)
def create_customer(
    body: CustomerCreate, principal: Writer, container: ContainerDep, response: Response
) -> CustomerPublic:
    """Add a customer on a plan of the active policy."""
    customer = Customer(
        org_id=principal.org_id,
        id=body.id,
        name=body.name,
        plan=body.plan,
        monthly_fee=body.monthly_fee,
        annual_fee=body.annual_fee,
        currency=body.currency,
        billing_period=body.billing_period,
        timezone=body.timezone,
        contract_start=body.contract_start,
        contract_end=body.contract_end,
        overrides=body.overrides,
    )
    with container.uow() as uow:
        stored = customers.create(uow, principal, customer, container.clock.now())
        uow.commit()
    response.headers["ETag"] = _etag(stored)
    response.headers["Location"] = f"/api/v1/customers/{stored.id}"
    return _public(stored)


@router.get("", response_model=Page[CustomerPublic])
def list_customers(
    principal: Reader, container: ContainerDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[CustomerPublic]:
    """Customers by id (a customer-scoped key sees only its own)."""
    with container.uow() as uow:
        page = customers.listing(uow, principal, after(cursor), limit)
    return Page[CustomerPublic](
        items=[_public(item) for item in page.items], next_cursor=encode_cursor(page.next_cursor)
    )


@router.get("/{customer_id}", response_model=CustomerPublic)
def get_customer(
    customer_id: CustomerId, principal: Reader, container: ContainerDep, response: Response
) -> CustomerPublic:
    """One customer."""
    with container.uow() as uow:
        customer = customers.get(uow, principal, known_slug(customer_id, "customer"))
    response.headers["ETag"] = _etag(customer)
    return _public(customer)


@router.patch("/{customer_id}", response_model=CustomerPublic)
def update_customer(
    customer_id: CustomerId,
    body: CustomerUpdate,
    principal: Writer,
    container: ContainerDep,
    response: Response,
    if_match: Annotated[str | None, Header(description="The ETag you read.")] = None,
) -> CustomerPublic:
    """Change a customer. With ``If-Match``, a stale version is a 412; without it, a change
    that raced another writer is a 409: no update is ever lost."""
    expected = None
    if if_match is not None:
        text = if_match.strip().removeprefix("W/").strip('"')
        if not text.isdigit():
            raise HTTPException(400, 'If-Match must be an ETag this API gave out, e.g. "3"')
        expected = int(text)
    changes = body.model_dump(exclude_unset=True)
    with container.uow() as uow:
        updated = customers.update(
            uow,
            principal,
            known_slug(customer_id, "customer"),
            changes,
            expected,
            container.clock.now(),
        )
        uow.commit()
    response.headers["ETag"] = _etag(updated)
    return _public(updated)
