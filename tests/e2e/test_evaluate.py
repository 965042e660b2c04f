"""``slakeeper evaluate`` end to end: the worked examples of the SLA-math issue, by hand."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import EXAMPLES, ROOT, slakeeper_command
from slakeeper.policy.errors import PolicyError
from slakeeper.policy.loader import load_policy_text
from slakeeper.services.evaluate import as_json, evaluate
from slakeeper.services.facts import load_facts

TRULAYER = (EXAMPLES / "trulayer.yaml").read_text(encoding="utf-8")
OPSMANTIK = (EXAMPLES / "opsmantik.yaml").read_text(encoding="utf-8")


def run(
    tmp_path: Path, policy_text: str, facts_text: str, period: str, customer: str | None = None
) -> list[dict[str, Any]]:
    loaded = load_policy_text(policy_text, "policy.yaml")
    facts_file = tmp_path / "facts.yaml"
    facts_file.write_text(facts_text, encoding="utf-8")
    facts = load_facts(facts_file, loaded.policy)
    document = as_json(evaluate(loaded, facts, period, customer))
    assert document["policy"] == {"name": loaded.policy.metadata.name, "sha256": loaded.sha256}
    return document["customers"]  # type: ignore[return-value]


def only(rows: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(rows) == 1
    return rows[0]


OPS_CUSTOMER = 'customers: [{id: c1, plan: enterprise, monthly_fee: "1000.00"}]\n'


def test_sixty_down_minutes_in_a_30_day_month_is_99_861111_and_earns_10_percent(
    tmp_path: Path,
) -> None:
    facts = OPS_CUSTOMER + (
        "downtime:\n"
        "  - {component: api-sync, start: 2026-11-10T10:00:00Z, end: 2026-11-10T11:00:00Z}\n"
    )
    row = only(run(tmp_path, OPSMANTIK, facts, "2026-11"))
    assert row["measured_seconds"] == "2592000"
    assert row["counted_downtime_seconds"] == "3600"
    assert row["uptime_percent"] == "99.861111"
    assert row["allowed_downtime_seconds"] == "2592"
    assert row["met"] is False
    assert row["credit"]["percent"] == "10"
    assert row["credit"]["amount"] == "100.00"


@pytest.mark.parametrize(
    ("announced", "counted_minutes", "uptime", "percent"),
    [
        ("2026-10-17T09:00:00Z", 420, "99.059140", "10"),
        ("2026-10-19T09:00:00Z", 480, "98.924731", "25"),
    ],
)
def test_maintenance_counts_only_when_announced_48_hours_ahead(
    tmp_path: Path, announced: str, counted_minutes: int, uptime: str, percent: str
) -> None:
    facts = OPS_CUSTOMER + (
        "downtime:\n"
        "  - {component: api-sync, start: 2026-10-20T09:00:00Z, end: 2026-10-20T17:00:00Z}\n"
        "maintenance:\n"
        "  - {components: [api-sync], start: 2026-10-20T09:00:00Z, end: 2026-10-20T10:00:00Z,\n"
        f"     announced_at: {announced}}}\n"
    )
    row = only(run(tmp_path, OPSMANTIK, facts, "2026-10"))
    assert row["measured_seconds"] == str(31 * 86400)
    assert row["downtime_seconds"] == str(480 * 60)
    assert row["counted_downtime_seconds"] == str(counted_minutes * 60)
    assert row["uptime_percent"] == uptime
    assert row["credit"]["percent"] == percent


def test_exactly_432_minutes_in_30_days_is_99_0_and_not_below_it(tmp_path: Path) -> None:
    facts = OPS_CUSTOMER + (
        "downtime:\n"
        "  - {component: api-sync, start: 2026-11-10T00:00:00Z, end: 2026-11-10T07:12:00Z}\n"
    )
    row = only(run(tmp_path, OPSMANTIK, facts, "2026-11"))
    assert row["uptime_percent"] == "99.000000"
    assert row["credit"]["percent"] == "10"  # "< 99.0 %" (25 %) does not apply


@pytest.mark.parametrize(
    ("rounding", "end", "days", "amount"),
    [
        ("down", "2026-11-05T03:43:12Z", "3", "300.00"),
        ("up", "2026-11-05T03:43:12Z", "3", "300.00"),
        ("up", "2026-11-05T03:43:13Z", "4", "400.00"),
        ("down", "2026-11-05T03:43:13Z", "3", "300.00"),
    ],
)
def test_trulayer_pro_one_day_per_excess_hour(
    tmp_path: Path, rounding: str, end: str, days: str, amount: str
) -> None:
    policy = TRULAYER.replace("partial_hours: down", f"partial_hours: {rounding}")
    facts = (
        'customers: [{id: acme, plan: pro, monthly_fee: "3000.00"}]\n'
        "downtime:\n"
        f"  - {{component: ingest-api, start: 2026-11-05T00:00:00Z, end: {end}}}\n"
    )
    row = only(run(tmp_path, policy, facts, "2026-11"))
    assert row["allowed_downtime_seconds"] == "2592"
    assert row["credit"]["days"] == days
    assert row["credit"]["amount"] == amount  # 3000 x days / 30
    assert row["claim_deadline"] == "2026-12-31T00:00:00Z"


def test_trulayer_credit_is_capped_at_30_days(tmp_path: Path) -> None:
    facts = (
        'customers: [{id: acme, plan: pro, monthly_fee: "3000.00"}]\n'
        "downtime:\n"
        "  - {component: dashboard, start: 2026-11-01T00:00:00Z, end: 2026-11-03T00:00:00Z}\n"
    )
    row = only(run(tmp_path, TRULAYER, facts, "2026-11"))
    assert row["credit"]["days"] == "30"
    assert row["credit"]["capped"] is True
    assert row["credit"]["amount"] == "3000.00"


def test_any_region_counts_only_the_minutes_every_region_is_down(tmp_path: Path) -> None:
    facts = (
        'customers: [{id: acme, plan: pro, monthly_fee: "100.00"}]\n'
        "downtime:\n"
        "  - {component: ingest-api, region: us-east, start: 2026-11-03T10:00:00Z,"
        " end: 2026-11-03T10:40:00Z}\n"
        "  - {component: ingest-api, region: eu-west, start: 2026-11-03T10:30:00Z,"
        " end: 2026-11-03T11:00:00Z}\n"
    )
    row = only(run(tmp_path, TRULAYER, facts, "2026-11"))
    assert row["counted_downtime_seconds"] == "600"
    all_regions = TRULAYER.replace("region_rule: any-region", "region_rule: all-regions")
    row = only(run(tmp_path, all_regions, facts, "2026-11"))
    assert row["counted_downtime_seconds"] == "3600"


def test_a_credit_under_the_minimum_is_not_issued(tmp_path: Path) -> None:
    policy = OPSMANTIK.replace(
        "      fee_basis: monthly", "      fee_basis: monthly\n      minimum_amount: 1.00"
    )
    facts = 'customers: [{id: c1, plan: enterprise, monthly_fee: "8.00"}]\n' + (
        "downtime:\n"
        "  - {component: api-sync, start: 2026-11-10T10:00:00Z, end: 2026-11-10T11:00:00Z}\n"
    )
    row = only(run(tmp_path, policy, facts, "2026-11"))
    assert row["credit"]["percent"] == "10"
    assert row["credit"]["amount"] == "0.00"
    assert "minimum" in row["credit"]["reason"]


def test_data_loss_earns_the_whole_fee_and_a_termination_right(tmp_path: Path) -> None:
    facts = OPS_CUSTOMER + "data_loss:\n  - {customer: c1, at: 2026-11-04T12:00:00Z}\n"
    row = only(run(tmp_path, OPSMANTIK, facts, "2026-11"))
    assert row["met"] is True
    assert row["credit"]["percent"] == "100"
    assert row["credit"]["amount"] == "1000.00"
    assert row["termination_right"] is True


def test_a_contract_starting_mid_month_is_measured_from_its_start(tmp_path: Path) -> None:
    facts = (
        'customers: [{id: acme, plan: pro, monthly_fee: "100.00", start: 2026-10-16T00:00:00Z}]\n'
        "downtime:\n"
        "  - {component: dashboard, start: 2026-10-10T00:00:00Z, end: 2026-10-10T05:00:00Z}\n"
        "  - {component: dashboard, start: 2026-10-20T00:00:00Z, end: 2026-10-20T00:10:00Z}\n"
    )
    row = only(run(tmp_path, TRULAYER, facts, "2026-10"))
    assert row["period_start"] == "2026-10-16T00:00:00Z"
    assert row["measured_seconds"] == str(16 * 86400)
    assert row["counted_downtime_seconds"] == "600"
    assert row["allowed_downtime_seconds"] == "1382.4"


def test_the_example_facts_give_the_numbers_worked_out_by_hand() -> None:
    result = subprocess.run(
        [
            *slakeeper_command(),
            "evaluate",
            "--policy",
            str(EXAMPLES / "trulayer.yaml"),
            "--facts",
            str(ROOT / "examples" / "facts" / "trulayer-2026-10.yaml"),
            "--period",
            "2026-10",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = {row["id"]: row for row in json.loads(result.stdout)["customers"]}
    acme = rows["acme"]
    assert (acme["downtime_seconds"], acme["excluded_seconds"]) == ("18000", "5400")
    assert acme["counted_downtime_seconds"] == "12600"
    assert acme["uptime_percent"] == "99.529570"
    assert (acme["credit"]["days"], acme["credit"]["amount"]) == ("2", "80.65")
    globex = rows["globex"]
    assert globex["measured_seconds"] == str(16 * 86400)
    assert globex["counted_downtime_seconds"] == "4800"
    assert globex["uptime_percent"] == "99.652778"
    assert globex["credit"]["amount"] == "0.00"
    initech = rows["initech"]
    assert initech["target_percent"] is None
    assert initech["met"] is None
    assert initech["uptime_percent"] == "99.529570"


def test_the_table_format_reads_as_a_table() -> None:
    result = subprocess.run(
        [
            *slakeeper_command(),
            "evaluate",
            "--policy",
            str(EXAMPLES / "trulayer.yaml"),
            "--facts",
            str(ROOT / "examples" / "facts" / "trulayer-2026-10.yaml"),
            "--period",
            "2026-10",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "99.529570" in result.stdout
    assert "80.65 USD" in result.stdout
    assert "48h notice required" in result.stdout


@pytest.mark.parametrize(
    ("facts", "fragment", "line"),
    [
        (
            OPS_CUSTOMER + "downtime:\n  - {component: api-snyc, start: 2026-11-10T10:00:00Z,"
            " end: 2026-11-10T11:00:00Z}\n",
            "unknown component 'api-snyc'; did you mean 'api-sync'?",
            3,
        ),
        (
            OPS_CUSTOMER + "downtime:\n  - {component: api-sync, start: 2026-11-10T10:00:00,"
            " end: 2026-11-10T11:00:00Z}\n",
            "no UTC offset",
            3,
        ),
        (
            OPS_CUSTOMER + "exclusions:\n  - {category: act-of-god, start: 2026-11-10T10:00:00Z,"
            " end: 2026-11-10T11:00:00Z}\n",
            "force-majeure",
            3,
        ),
        (
            'customers: [{id: c1, plan: enterprize, monthly_fee: "1"}]\n',
            "did you mean 'enterprise'",
            1,
        ),
    ],
)
def test_bad_facts_name_the_line(tmp_path: Path, facts: str, fragment: str, line: int) -> None:
    with pytest.raises(PolicyError) as caught:
        run(tmp_path, OPSMANTIK, facts, "2026-11")
    problem = caught.value.problems[0]
    assert fragment in problem.message
    assert problem.line == line


def test_cli_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    facts = tmp_path / "facts.yaml"
    facts.write_text(OPS_CUSTOMER, encoding="utf-8")
    result = subprocess.run(
        [
            *slakeeper_command(),
            "evaluate",
            "--policy",
            str(EXAMPLES / "opsmantik.yaml"),
            "--facts",
            str(facts),
            "--period",
            "2026-13",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "YYYY-MM" in result.stderr


SAAS = (EXAMPLES / "generic-saas.yaml").read_text(encoding="utf-8")
AGENCY = (EXAMPLES / "ai-agency.yaml").read_text(encoding="utf-8")


def test_an_annual_fee_in_a_dst_month_with_an_incident_claim_window(tmp_path: Path) -> None:
    # November 2026 in New York has 30 days and 1 hour (clocks go back on the 1st).
    facts = (
        'customers: [{id: big, plan: enterprise, annual_fee: "120000.00"}]\n'
        "downtime:\n"
        "  - {component: platform, start: 2026-11-10T15:00:00Z, end: 2026-11-10T16:00:00Z}\n"
    )
    row = only(run(tmp_path, SAAS, facts, "2026-11"))
    assert row["period_start"] == "2026-11-01T04:00:00Z"
    assert row["period_end"] == "2026-12-01T05:00:00Z"
    assert row["measured_seconds"] == "2595600"
    assert row["uptime_percent"] == "99.861304"
    assert row["target_percent"] == "99.99"
    assert row["credit"]["percent"] == "25"
    assert row["credit"]["amount"] == "2500.00"  # a twelfth of the annual fee x 25 %
    # 30 days after the incident ended (11:00 EST), at the same local time.
    assert row["claim_deadline"] == "2026-12-10T16:00:00Z"


def test_remove_from_period_accounting_and_a_credit_under_the_minimum(tmp_path: Path) -> None:
    facts = (
        'customers: [{id: shop, plan: critical, monthly_fee: "800.00"}]\n'
        "downtime:\n"
        "  - {component: workflow, start: 2026-11-10T00:00:00Z, end: 2026-11-10T09:00:00Z}\n"
        "exclusions:\n"
        "  - {category: third-party, start: 2026-11-10T00:00:00Z, end: 2026-11-10T02:00:00Z,\n"
        "     reason: Model provider outage}\n"
    )
    row = only(run(tmp_path, AGENCY, facts, "2026-11"))
    assert row["excluded_seconds"] == "7200"
    assert row["counted_downtime_seconds"] == "25200"
    assert row["uptime_percent"] == "99.026426"  # (2,588,400 - 25,200) / 2,588,400
    assert row["credit"]["percent"] == "5"
    assert row["credit"]["amount"] == "0.00"  # 40.00 is under the 50 minimum
    assert "minimum" in row["credit"]["reason"]


def test_a_customer_with_contract_overrides_is_judged_by_its_own_terms(tmp_path: Path) -> None:
    overrides = ROOT / "tests" / "fixtures" / "overrides"
    source = next(overrides.glob("*.yaml"))
    (tmp_path / "acme-contract.yaml").write_text(source.read_text(encoding="utf-8"))
    facts = (
        "customers:\n"
        '  - {id: acme, plan: enterprise, annual_fee: "120000.00", overrides: acme-contract.yaml}\n'
        '  - {id: plain, plan: enterprise, annual_fee: "120000.00"}\n'
        "downtime:\n"
        "  - {component: platform, start: 2026-11-10T15:00:00Z, end: 2026-11-10T16:00:00Z}\n"
    )
    rows = {row["id"]: row for row in run_with_overrides(tmp_path, SAAS, facts, "2026-11")}
    acme, plain = rows["acme"], rows["plain"]
    assert acme["uptime_percent"] == plain["uptime_percent"] == "99.861304"
    assert (acme["target_percent"], plain["target_percent"]) == ("99.95", "99.99")
    assert acme["credit"]["percent"] == plain["credit"]["percent"] == "25"
    # The contract's claim window is 45 days after the period, the plan's 30 after the incident.
    assert acme["claim_deadline"] == "2027-01-15T05:00:00Z"
    assert plain["claim_deadline"] == "2026-12-10T16:00:00Z"
    assert acme["overrides"] == {"customer": "Acme Corp", "contract": "Order form 2026-014"}
    assert plain["overrides"] is None


def run_with_overrides(
    tmp_path: Path, policy_text: str, facts_text: str, period: str
) -> list[dict[str, Any]]:
    from slakeeper.services.facts import load_customer_overrides

    loaded = load_policy_text(policy_text, "policy.yaml")
    facts_file = tmp_path / "facts.yaml"
    facts_file.write_text(facts_text, encoding="utf-8")
    facts = load_facts(facts_file, loaded.policy)
    contracts = load_customer_overrides(facts, facts_file, loaded.policy)
    return as_json(evaluate(loaded, facts, period, None, contracts))["customers"]  # type: ignore[return-value]
