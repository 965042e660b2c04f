"""Period close on both stores: reports, credits through their lifecycle, the ledger and its
verification, re-closing as a revision, and every figure against ``slakeeper evaluate``."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from api_helpers import API_PREFIX, Api, assert_problem
from sqlalchemy import text

from conftest import EXAMPLES, slakeeper_command
from slakeeper.services import close, ledger
from slakeeper.services.records import Scope

NOW = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)
OUTAGE = (datetime(2026, 10, 10, 9, 0, tzinfo=UTC), datetime(2026, 10, 10, 12, 0, tzinfo=UTC))


@dataclass
class FixedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


def z(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def call(api: Api, method: str, path: str, key: str | None = None, **kw: Any) -> Any:
    answer = api.client.request(method, f"{API_PREFIX}{path}", headers=api.headers(key), **kw)
    assert answer.status_code < 300, answer.text
    return answer


def month_with_an_outage(api: Api) -> None:
    """trulayer; customers alpha (pro, 1,250 USD) and beta (team, 900 USD); 3 hours of 5xx on
    the ingest API from both regions on 10 October, and traffic that is fine on other days."""
    api.container.clock = FixedClock(NOW)  # type: ignore[assignment]
    api.upload_policy()
    api.customer("alpha", plan="pro", monthly_fee="1250.00", timezone="UTC")
    api.customer("beta", plan="team", monthly_fee="900.00", timezone="UTC")
    key = api.key([Scope.INGEST])
    buckets = []
    minute = OUTAGE[0]
    while minute < OUTAGE[1]:
        for region in ("us-east", "eu-west"):
            buckets.append({"minute": z(minute), "component": "ingest-api", "region": region,
                            "statuses": {"200": 50, "503": 5}})  # fmt: skip
        minute += timedelta(minutes=1)
    for day in (3, 17, 28):
        buckets.append({"minute": z(datetime(2026, 10, day, 8, tzinfo=UTC)),
                        "component": "dashboard", "region": "us-east",
                        "statuses": {"200": 400}})  # fmt: skip
    headers = {**api.headers(key), "Idempotency-Key": "october"}
    answer = api.client.post(f"{API_PREFIX}/ingest", json={"buckets": buckets}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["rejected"] == [], answer.text


def evaluate_facts(tmp_path: Path) -> dict[str, Any]:
    """The same month as a facts file, through the real ``slakeeper evaluate`` command."""
    facts = tmp_path / "facts.yaml"
    facts.write_text(
        "customers:\n"
        '  - {id: alpha, plan: pro, monthly_fee: "1250.00", currency: USD, timezone: UTC}\n'
        '  - {id: beta, plan: team, monthly_fee: "900.00", currency: USD, timezone: UTC}\n'
        "downtime:\n"
        f"  - {{component: ingest-api, start: {z(OUTAGE[0])}, end: {z(OUTAGE[1])}}}\n",
        encoding="utf-8",
    )
    ran = subprocess.run(
        [*slakeeper_command(), "evaluate", "--policy", str(EXAMPLES / "trulayer.yaml"),
         "--facts", str(facts), "--period", "2026-10", "--format", "json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    return {c["id"]: c for c in json.loads(ran.stdout)["customers"]}


def test_closing_a_month_matches_evaluate_and_the_credit_goes_through_its_lifecycle(
    api: Api, tmp_path: Path
) -> None:
    month_with_an_outage(api)
    closed = call(api, "POST", "/closes", json={"period": "2026-10"}).json()
    assert (closed["revision"], closed["customers"]) == (1, 2)
    expected = evaluate_facts(tmp_path)
    for customer in ("alpha", "beta"):
        report = call(api, "GET", f"/reports/{customer}/2026-10").json()
        assert report["uptime"]["percent_exact"] == expected[customer]["uptime_percent"]
        shown = Decimal(expected[customer]["uptime_percent"]).quantize(
            Decimal("0.001"), rounding=ROUND_HALF_UP
        )
        assert report["uptime"]["percent"] == format(shown, "f")  # trulayer shows 3 decimals
        assert report["uptime"]["counted_downtime_seconds"] == "10800"
        assert report["credit"]["amount"] == expected[customer]["credit"]["amount"]
        assert len(report["uptime"]["daily"]) == 31
        assert report["uptime"]["daily"][9]["downtime_seconds"] == "10800"
    credits = {c["customer"]: c for c in call(api, "GET", "/credits").json()}
    assert credits["alpha"]["amount"] == expected["alpha"]["credit"]["amount"] != "0.00"
    assert credits["alpha"]["state"] == "eligible"  # trulayer needs a claim

    alpha_key = api.key("read", customer="alpha")
    beta_key = api.key("read", customer="beta")
    credit = credits["alpha"]["id"]
    claim = {"window_start": z(OUTAGE[0]), "window_end": z(OUTAGE[1]), "note": "ingest 503s"}
    # Another customer's key cannot see it; a write decision before the claim is refused.
    assert_problem(api.client.post(f"{API_PREFIX}/credits/{credit}/claim", json=claim,
                                   headers=api.headers(beta_key)), 404)  # fmt: skip
    assert_problem(api.client.post(f"{API_PREFIX}/credits/{credit}/decision",
                                   json={"approve": True, "reason": "ok"},
                                   headers=api.headers()), 409)  # fmt: skip
    claimed = call(api, "POST", f"/credits/{credit}/claim", alpha_key, json=claim).json()
    assert (claimed["state"], claimed["claim"]["by"]) == ("claimed", "customer")
    call(api, "POST", f"/credits/{credit}/decision",
         json={"approve": True, "reason": "matches the 503s of 10 October"})  # fmt: skip
    applied = call(api, "POST", f"/credits/{credit}/apply", json={"invoice": "INV-2026-11-7"})
    assert (applied.json()["state"], applied.json()["invoice"]) == ("applied", "INV-2026-11-7")

    exported = call(api, "GET", "/ledger/export", alpha_key, params={"format": "csv"}).text
    lines = exported.strip().splitlines()
    assert lines[0].startswith("seq,at,customer,period,credit,kind,amount")
    kinds = [line.split(",")[5] for line in lines[1:]]
    assert kinds == ["eligible", "claimed", "approved", "applied"]
    assert all(",alpha," in line for line in lines[1:])  # the customer sees its own only
    assert f",{expected['alpha']['credit']['amount']},USD," in lines[-1]

    with api.container.uow() as uow:
        org = uow.organisations.get(api.org.id)
        assert org is not None
        entries = uow.closes.ledger(org.id)
        assert ledger.verify_chain(entries, uow.closes.ledger_head(org.id)) == []
        assert close.recompute_differences(uow, org) == []


def test_a_late_exclusion_recloses_as_a_revision_with_the_difference(api: Api) -> None:
    month_with_an_outage(api)
    call(api, "POST", "/closes", json={"period": "2026-10"})
    again = api.client.post(f"{API_PREFIX}/closes", json={"period": "2026-10"},
                            headers=api.headers())  # fmt: skip
    assert_problem(again, 422)  # a reason is needed
    incident = {
        "id": "INC-1",
        "title": "Cloud region outage",
        "severity": "sev-1",
        "started_at": z(OUTAGE[0]),
        "components": {"ingest-api": "major-outage"},
    }
    call(api, "POST", "/incidents", json=incident)
    call(api, "POST", "/incidents/INC-1/updates", json={
        "status": "resolved", "message": "over", "at": z(OUTAGE[1]),
        "components": {"ingest-api": "operational"}})  # fmt: skip
    call(api, "POST", "/incidents/INC-1/exclusions", json={
        "category": "force-majeure", "start": z(OUTAGE[0]), "end": z(OUTAGE[1]),
        "reason": "provider-wide cloud outage"})  # fmt: skip
    revised = call(
        api, "POST", "/closes", json={"period": "2026-10", "reason": "force majeure declared late"}
    )
    body = revised.json()
    assert body["revision"] == 2
    changed = {c["customer"]: c for c in body["changed"]}
    assert changed["alpha"]["after"] == "0.00"
    assert changed["alpha"]["difference"] == f"-{changed['alpha']['before']}"
    states = {c["id"]: c["state"] for c in call(api, "GET", "/credits").json()}
    assert set(states.values()) == {"voided"}
    first = call(api, "GET", "/reports/alpha/2026-10", params={"revision": 1}).json()
    latest = call(api, "GET", "/reports/alpha/2026-10").json()
    assert (first["revision"], latest["revision"]) == (1, 2)
    assert first["credit"]["amount"] != "0.00"
    assert latest["credit"]["amount"] == "0.00"
    assert latest["exclusions"][0]["category"] == "force-majeure"


def test_an_edited_ledger_row_is_found(api: Api, tmp_path: Path) -> None:
    month_with_an_outage(api)
    call(api, "POST", "/closes", json={"period": "2026-10"})
    with api.container.engine.begin() as connection:
        connection.execute(text("UPDATE ledger_entries SET amount = '1.00' WHERE seq = 1"))
    with api.container.uow() as uow:
        org = uow.organisations.get(api.org.id)
        assert org is not None
        problems = ledger.verify_chain(uow.closes.ledger(org.id), uow.closes.ledger_head(org.id))
    assert [(p.seq, p.message) for p in problems] == [(1, "was changed after it was written")]


def test_a_period_that_has_not_ended_cannot_be_closed(api: Api) -> None:
    month_with_an_outage(api)
    answer = api.client.post(f"{API_PREFIX}/closes", json={"period": "2026-11"},
                             headers=api.headers())  # fmt: skip
    assert "has not ended" in assert_problem(answer, 422)["detail"]
