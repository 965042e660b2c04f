"""The server's use cases, on the in-memory store and on SQLite (the same contract)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import EXAMPLES
from slakeeper.adapters.store.engine import make_engine
from slakeeper.adapters.store.memory import MemoryStore
from slakeeper.adapters.store.migrate import upgrade
from slakeeper.adapters.store.repository import SqlUnitOfWorkFactory
from slakeeper.policy.errors import PolicyError
from slakeeper.services import audit, customers, policy_versions, tenancy
from slakeeper.services.errors import ConflictError, Invalid, NotFound, PreconditionFailed
from slakeeper.services.ports import UnitOfWorkFactory
from slakeeper.services.records import Customer, Principal, Scope

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
TRULAYER = (EXAMPLES / "trulayer.yaml").read_text(encoding="utf-8")


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UnitOfWorkFactory]:
    if request.param == "memory":
        yield MemoryStore()
        return
    engine = make_engine(f"sqlite:///{tmp_path}/services.db")
    upgrade(engine)
    yield SqlUnitOfWorkFactory(engine)
    engine.dispose()


def new_org(store: UnitOfWorkFactory, slug: str = "acme") -> tuple[Principal, str]:
    with store() as uow:
        org, issued = tenancy.create_organisation(uow, slug=slug, name=slug, actor="test", now=NOW)
        uow.commit()
    return tenancy.cli_principal(org), issued.secret


def customer(principal: Principal, customer_id: str = "c1", plan: str = "pro") -> Customer:
    return Customer(
        org_id=principal.org_id, id=customer_id, name=customer_id, plan=plan,
        monthly_fee=Decimal("100.00"), annual_fee=None, currency="USD",
        billing_period="monthly", timezone="UTC", contract_start=None, contract_end=None,
    )  # fmt: skip


def with_policy(store: UnitOfWorkFactory) -> Principal:
    principal, _ = new_org(store)
    with store() as uow:
        policy_versions.upload(uow, principal, TRULAYER, now=NOW)
        uow.commit()
    return principal


def test_a_new_organisation_gets_an_admin_key_that_authenticates(store: UnitOfWorkFactory) -> None:
    principal, secret = new_org(store)
    with store() as uow:
        found = tenancy.authenticate(uow, secret, NOW)
        uow.commit()
    assert found is not None
    assert found.org_id == principal.org_id
    assert found.allows(Scope.ADMIN)
    assert found.allows(Scope.READ)
    assert not found.allows(Scope.INGEST)


def test_the_secret_is_never_stored(store: UnitOfWorkFactory) -> None:
    principal, secret = new_org(store)
    with store() as uow:
        (key,) = uow.keys.list(principal.org_id)
    assert key.key_hash == tenancy.hash_key(secret)
    assert secret not in repr(key)


def test_unknown_and_revoked_keys_do_not_authenticate(store: UnitOfWorkFactory) -> None:
    principal, _ = new_org(store)
    with store() as uow:
        issued = tenancy.create_key(
            uow, principal, name="r", scopes=[Scope.READ], customer_id=None, now=NOW
        )
        tenancy.revoke_key(uow, principal, issued.key.id, NOW)
        uow.commit()
    with store() as uow:
        assert tenancy.authenticate(uow, issued.secret, NOW) is None
        assert tenancy.authenticate(uow, "slk_made-up", NOW) is None
        assert tenancy.authenticate(uow, "not-even-a-key", NOW) is None


def test_last_use_is_written_at_most_once_a_minute(store: UnitOfWorkFactory) -> None:
    principal, secret = new_org(store)
    for offset in (0, 30, 90):
        with store() as uow:
            tenancy.authenticate(uow, secret, NOW + timedelta(seconds=offset))
            uow.commit()
    with store() as uow:
        (key,) = uow.keys.list(principal.org_id)
    assert key.last_used_at == NOW + timedelta(seconds=90)


def test_an_invalid_policy_stores_nothing(store: UnitOfWorkFactory) -> None:
    principal, _ = new_org(store)
    with store() as uow, pytest.raises(PolicyError):
        policy_versions.upload(
            uow, principal, TRULAYER.replace("kind: Policy", "kind: Pol"), now=NOW
        )
    with store() as uow:
        assert uow.policies.latest_number(principal.org_id) == 0


def test_an_uncommitted_unit_of_work_changes_nothing(store: UnitOfWorkFactory) -> None:
    principal, _ = new_org(store)
    with store() as uow:
        policy_versions.upload(uow, principal, TRULAYER, now=NOW)
    with store() as uow:
        assert uow.policies.latest_number(principal.org_id) == 0
        assert len(uow.audit.all(principal.org_id)) == 2


def test_customers_update_with_versions_and_never_lose_a_change(store: UnitOfWorkFactory) -> None:
    principal = with_policy(store)
    with store() as uow:
        customers.create(uow, principal, customer(principal), NOW)
        uow.commit()
    with store() as uow:
        updated = customers.update(uow, principal, "c1", {"name": "One"}, 1, NOW)
        uow.commit()
    assert updated.version == 2
    with store() as uow, pytest.raises(PreconditionFailed):
        customers.update(uow, principal, "c1", {"name": "Stale"}, 1, NOW)
    with store() as uow:
        stale = replace(customer(principal), name="Racing", version=3)
        assert not uow.customers.update(stale, 1)
        assert uow.customers.get(principal.org_id, "c1").name == "One"  # type: ignore[union-attr]


def test_customers_are_checked_against_the_active_policy(store: UnitOfWorkFactory) -> None:
    principal, _ = new_org(store)
    with store() as uow, pytest.raises(Invalid, match="no active policy"):
        customers.create(uow, principal, customer(principal), NOW)
    with store() as uow:
        policy_versions.upload(uow, principal, TRULAYER, now=NOW)
        uow.commit()
    with store() as uow, pytest.raises(Invalid) as caught:
        customers.create(uow, principal, customer(principal, plan="gold"), NOW)
    assert caught.value.errors[0]["field"] == "plan"
    with store() as uow:
        customers.create(uow, principal, customer(principal), NOW)
        uow.commit()
    with store() as uow, pytest.raises(ConflictError):
        customers.create(uow, principal, customer(principal), NOW)


def test_a_customer_key_sees_only_its_customer(store: UnitOfWorkFactory) -> None:
    principal = with_policy(store)
    with store() as uow:
        customers.create(uow, principal, customer(principal, "mine"), NOW)
        customers.create(uow, principal, customer(principal, "theirs"), NOW)
        uow.commit()
    scoped = replace(principal, scopes=frozenset({Scope.READ}), customer_id="mine")
    with store() as uow:
        assert [c.id for c in customers.listing(uow, scoped, None, 50).items] == ["mine"]
        with pytest.raises(NotFound):
            customers.get(uow, scoped, "theirs")


def test_the_audit_chain_verifies_and_detects_tampering(store: UnitOfWorkFactory) -> None:
    principal = with_policy(store)
    with store() as uow:
        entries = list(uow.audit.all(principal.org_id))
        org = uow.organisations.get(principal.org_id)
    assert org is not None
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert audit.verify(entries, org.audit_head_seq, org.audit_head_hash) == []
    edited = [*entries[:1], replace(entries[1], actor="mallory"), *entries[2:]]
    assert [p.seq for p in audit.verify(edited, org.audit_head_seq, org.audit_head_hash)] == [2]
    removed = [*entries[:1], *entries[2:]]
    assert audit.verify(removed, org.audit_head_seq, org.audit_head_hash)
    truncated = entries[:-1]
    assert audit.verify(truncated, org.audit_head_seq, org.audit_head_hash)


def test_idempotency_claims_are_exclusive(store: UnitOfWorkFactory) -> None:
    with store() as uow:
        assert uow.idempotency.claim("s", "k", "h1", NOW)
        uow.commit()
    with store() as uow:
        assert not uow.idempotency.claim("s", "k", "h1", NOW)
        uow.idempotency.finish("s", "k", 201, "application/json", "{}")
        uow.commit()
    with store() as uow:
        stored = uow.idempotency.get("s", "k")
    assert stored is not None
    assert (stored.state, stored.status_code, stored.request_sha256) == ("done", 201, "h1")
