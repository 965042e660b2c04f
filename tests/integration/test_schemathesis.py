"""Schemathesis against the app's own OpenAPI document, in process (ASGI), on both stores.

Each operation of ``/api/v1/openapi.json`` gets generated requests (schemathesis' examples,
coverage and fuzzing phases; at most ``MAX_EXAMPLES`` fuzzed ones) sent with the admin key of
an organisation that has an active policy and a customer. No answer may be a 5xx, and every
answer must conform to the document (body schema, headers, declared status and media type),
and every error must be RFC 9457 problem+json with one of the API's problem types
(:func:`errors_are_problems`). The tests after the fuzzing pin the bugs an earlier run found:
undeclared error answers, a 405 naming one method, policy versions beyond the store's integer
range, text with a NUL character, and an unchecked time zone.

schemathesis' own pytest loader (``schemathesis.pytest.from_fixture``) does not run under
pytest 9 (it sets ``Function._nodeid``, which pytest 9 no longer has), so the schema is read
from an app built on an unconnected in-memory store, and each case is sent to the app of the
test's own database (``app=`` of ``call_and_validate``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from api_helpers import API_PREFIX, PROBLEM_TYPE_PREFIX, Api, open_api
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks as openapi_checks

from slakeeper.api.app import create_app
from slakeeper.bootstrap import build
from slakeeper.config import Settings

#: Fuzzed requests per operation (the examples and coverage phases add their own few).
MAX_EXAMPLES = 25

CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                # The API checks meaning the document cannot express: a policy must be a valid
                # policy (422), a plan must exist in the active policy (422), a cursor must be
                # one the API gave out (400), If-Match must name the current version (412).
                "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "412", "422"],
            },
        }
    }
)


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx: Any, value: Any) -> bytes:
    """NDJSON bodies (ingest): a generated string is sent as it is, anything else as JSON."""
    del ctx
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return json.dumps(value).encode()


def _schema_app() -> Any:
    """The app, for its OpenAPI document only: nothing connects to this store."""
    return create_app(build(Settings(database_url="sqlite://")))


schema = schemathesis.openapi.from_asgi(f"{API_PREFIX}/openapi.json", _schema_app(), config=CONFIG)


def errors_are_problems(ctx: Any, response: Any, case: schemathesis.Case) -> None:
    """Every 4xx and 5xx is RFC 9457 problem+json with one of the API's problem types."""
    if response.status_code < 400:
        return
    media = (response.headers.get("content-type") or [""])[0].split(";")[0].strip()
    assert media == "application/problem+json", f"{response.status_code} answered as {media!r}"
    body = response.json()
    assert str(body.get("type", "")).startswith(PROBLEM_TYPE_PREFIX), body
    assert body.get("status") == response.status_code, body


@pytest.fixture
def fuzzed(database_url: str) -> Iterator[Api]:
    # A rate limit no run reaches: every generated request comes with the same key.
    with open_api(database_url, rate_limit_per_minute=1_000_000) as api:
        api.upload_policy()
        api.customer("globex")
        yield api


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    # One app per operation for all its examples, on purpose: state accumulates as it would.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_within_its_documented_contract(
    case: schemathesis.Case, fuzzed: Api
) -> None:
    case.call_and_validate(
        app=fuzzed.client.app,
        headers=fuzzed.headers(),
        additional_checks=[errors_are_problems],
    )


# --------------------------------------------------------------------- known bugs in src


@pytest.fixture
def sqlite_api(sqlite_url: str) -> Iterator[Api]:
    with open_api(sqlite_url) as api:
        api.upload_policy()
        yield api


def test_errors_are_declared_in_the_document(sqlite_api: Api) -> None:
    checks = [openapi_checks.status_code_conformance, openapi_checks.content_type_conformance]
    not_found = schema[f"{API_PREFIX}/customers/{{customer_id}}"]["GET"].Case(
        path_parameters={"customer_id": "nobody"}
    )
    too_small = schema[f"{API_PREFIX}/audit"]["GET"].Case(query={"limit": 0})
    for case in (not_found, too_small):
        case.call_and_validate(
            app=sqlite_api.client.app, headers=sqlite_api.headers(), checks=checks
        )


def test_a_405_allows_every_method_of_the_resource(sqlite_api: Api) -> None:
    for path, methods in [("keys", {"GET", "POST"}), ("customers/globex", {"GET", "PATCH"})]:
        response = sqlite_api.client.options(f"{API_PREFIX}/{path}", headers=sqlite_api.headers())
        assert response.status_code == 405
        allowed = {method.strip() for method in response.headers["allow"].split(",")}
        assert methods <= allowed, (path, response.headers["allow"])


def test_a_version_beyond_the_integer_range_is_a_client_error(api: Api) -> None:
    api.upload_policy()
    client = api.client
    for number in (2**31, 2**63):
        for method, path, params in [
            ("GET", f"{API_PREFIX}/policies/{number}", {}),
            ("POST", f"{API_PREFIX}/policies/{number}/activate", {}),
            ("GET", f"{API_PREFIX}/policies/1/diff", {"against": str(number)}),
        ]:
            try:
                response = client.request(method, path, params=params, headers=api.headers())
            except OverflowError as error:  # the test client re-raises what the app did not catch
                pytest.fail(f"{method} {path} {params}: unhandled {error!r}")
            assert response.status_code in (404, 422), (method, path, response.text)


def test_text_with_a_nul_character_is_refused_on_every_store(api: Api) -> None:
    api.upload_policy()
    client, headers = api.client, api.headers()
    named = client.post(
        f"{API_PREFIX}/keys", json={"name": "a\x00b", "scopes": ["read"]}, headers=headers
    )
    customer = {"id": "nul", "name": "N\x00L", "plan": "pro", "monthly_fee": "1"}
    created = client.post(f"{API_PREFIX}/customers", json=customer, headers=headers)
    by_id = client.get(f"{API_PREFIX}/customers/a%00b", headers=headers)
    cursor = client.get(f"{API_PREFIX}/customers", params={"cursor": "AA"}, headers=headers)
    statuses = [named.status_code, created.status_code, by_id.status_code, cursor.status_code]
    assert statuses == [422, 422, 404, 400]


def test_a_customer_in_an_unknown_timezone_is_refused(sqlite_api: Api) -> None:
    customer = {"id": "mars", "name": "Mars", "plan": "pro", "monthly_fee": "1"}
    response = sqlite_api.client.post(
        f"{API_PREFIX}/customers",
        json={**customer, "timezone": "Mars/Olympus"},
        headers=sqlite_api.headers(),
    )
    assert response.status_code == 422, response.text
