"""Concurrent writers on SQLite and PostgreSQL: no lost update, no broken audit chain.

Each writer is a thread with a TestClient of its own on the same app (so requests really run
at the same time, each in its own transaction); a barrier starts them together.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from api_helpers import API_PREFIX, Api, open_api
from fastapi.testclient import TestClient

from slakeeper.services import audit, customers
from slakeeper.services.errors import ConflictError, PreconditionFailed
from slakeeper.services.records import Principal, Scope

T = TypeVar("T")

CUSTOMER = f"{API_PREFIX}/customers/initech"
#: The most attempts a retrying writer makes before the test calls it starved.
MAX_ATTEMPTS = 20


def run_together(count: int, work: Callable[[TestClient, int], T], api: Api) -> list[T]:
    """``work(client, index)`` in ``count`` threads, each with a client of its own, released
    together; the results in ``index`` order."""
    barrier = threading.Barrier(count, timeout=30)

    def worker(index: int) -> T:
        with TestClient(api.client.app, base_url="http://127.0.0.1") as client:
            barrier.wait()
            return work(client, index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))


@pytest.fixture
def initech(api: Api) -> Api:
    """``api`` with the trulayer policy active and customer ``initech`` at version 1."""
    api.upload_policy()
    assert api.customer("initech")["version"] == 1
    return api


def stored_customer(api: Api) -> dict[str, Any]:
    response = api.client.get(CUSTOMER, headers=api.headers())
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == f'"{response.json()["version"]}"'
    body: dict[str, Any] = response.json()
    return body


def test_two_writers_with_the_same_if_match_cannot_both_win(initech: Api) -> None:
    changes = [{"name": "Initech (first)"}, {"name": "Initech (second)"}]

    def patch(client: TestClient, index: int) -> tuple[int, dict[str, Any]]:
        headers = initech.headers(If_Match='"1"')
        response = client.patch(CUSTOMER, json=changes[index], headers=headers)
        return response.status_code, response.json()

    results = run_together(2, patch, initech)

    statuses = sorted(status for status, _ in results)
    assert statuses in ([200, 409], [200, 412]), results
    winner = next(body for status, body in results if status == 200)
    loser = next(body for status, body in results if status != 200)
    assert loser["type"] in {
        "tag:slakeeper,2026:problem/precondition-failed",
        "tag:slakeeper,2026:problem/conflict",
    }
    stored = stored_customer(initech)
    assert stored["version"] == 2
    assert stored["name"] == winner["name"]


def test_writers_that_retry_on_conflict_lose_no_update(initech: Api) -> None:
    changes = [{"name": "Initech Corporation"}, {"monthly_fee": "250"}]

    def patch_until_applied(client: TestClient, index: int) -> list[int]:
        change = changes[index]
        statuses = []
        for _attempt in range(MAX_ATTEMPTS):
            current = client.get(CUSTOMER, headers=initech.headers())
            etag = current.headers["etag"]
            response = client.patch(CUSTOMER, json=change, headers=initech.headers(If_Match=etag))
            statuses.append(response.status_code)
            if response.status_code == 200:
                return statuses
            assert response.status_code in (409, 412), response.text
        pytest.fail(f"no success in {MAX_ATTEMPTS} attempts: {statuses}")

    attempts = run_together(2, patch_until_applied, initech)

    assert all(statuses[-1] == 200 for statuses in attempts), attempts
    stored = stored_customer(initech)
    assert stored["name"] == "Initech Corporation"
    assert stored["monthly_fee"] == "250"
    assert stored["version"] == 3


def waiting_on_a_lock(api: Api) -> bool:
    """Whether some transaction of this database waits for a row lock (PostgreSQL)."""
    with api.container.engine.connect() as connection:
        waiting = connection.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).scalar_one()
    return bool(waiting)


@pytest.mark.postgresql
@pytest.mark.parametrize("if_match", [1, None], ids=["with If-Match", "without If-Match"])
def test_an_update_that_raced_another_writer_is_a_conflict_not_an_overwrite(
    postgresql_url: str, if_match: int | None
) -> None:
    """The second writer reads version 1 while the first has written but not committed, so
    its version check passes; its UPDATE then waits for the first writer's row lock and, once
    that commits, matches no row: a conflict, never a silent overwrite. (Only PostgreSQL lets
    the two interleave; SQLite takes the write lock at BEGIN and runs them one after the
    other.)"""
    with open_api(postgresql_url) as api:
        api.upload_policy()
        api.customer("initech")
        writer = Principal(org_id=api.org.id, actor="test", scopes=frozenset(Scope))
        now = api.container.clock.now()

        def second_writer() -> str:
            with api.container.uow() as uow:
                try:
                    customers.update(uow, writer, "initech", {"name": "second"}, if_match, now)
                except (ConflictError, PreconditionFailed) as error:
                    return type(error).__name__
                uow.commit()
            return "committed"

        with ThreadPoolExecutor(max_workers=1) as pool, api.container.uow() as first:
            customers.update(first, writer, "initech", {"name": "first"}, if_match, now)
            second = pool.submit(second_writer)
            deadline = time.monotonic() + 30
            while not waiting_on_a_lock(api):
                assert not second.done(), second.result()
                assert time.monotonic() < deadline, "the second writer never waited for the lock"
                time.sleep(0.01)
            first.commit()
            outcome = second.result(timeout=30)

        assert outcome == "ConflictError"
        with api.container.uow() as uow:
            stored = customers.get(uow, writer, "initech")
        assert (stored.name, stored.version) == ("first", 2)


def test_concurrent_changes_leave_the_audit_chain_intact(api: Api) -> None:
    """20 writers at once, half creating keys and half customers. (On PostgreSQL this
    deadlocked while the organisation lock was FOR UPDATE: inserting a key or a customer
    takes FOR KEY SHARE on its organisation before the audit locks it.)"""
    api.upload_policy()

    def create_key_or_customer(client: TestClient, index: int) -> int:
        if index % 2:
            body = {"id": f"customer-{index}", "name": "C", "plan": "pro", "monthly_fee": "1"}
            return client.post(
                f"{API_PREFIX}/customers", json=body, headers=api.headers()
            ).status_code
        body = {"name": f"worker {index}", "scopes": ["read"]}
        return client.post(f"{API_PREFIX}/keys", json=body, headers=api.headers()).status_code

    with api.container.uow() as uow:
        entries_before = len(uow.audit.all(api.org.id))

    statuses = run_together(20, create_key_or_customer, api)

    assert statuses == [201] * 20
    with api.container.uow() as uow:
        org = uow.organisations.get(api.org.id)
        entries = uow.audit.all(api.org.id)
    assert org is not None
    assert [entry.seq for entry in entries] == list(range(1, entries_before + 21))
    actions = [entry.action for entry in entries[entries_before:]]
    assert (actions.count("key.created"), actions.count("customer.created")) == (10, 10)
    assert audit.verify(entries, org.audit_head_seq, org.audit_head_hash) == []
