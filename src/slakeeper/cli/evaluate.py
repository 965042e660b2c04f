"""``slakeeper evaluate``: the SLA result of each customer for one period, offline."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from slakeeper.cli.common import CliError, load
from slakeeper.services.evaluate import as_json, evaluate
from slakeeper.services.explain import human_seconds
from slakeeper.services.facts import load_customer_overrides, load_facts


def evaluate_command(
    policy: str = typer.Option(..., "--policy", help="Policy file."),
    facts: str = typer.Option(..., "--facts", help="Facts file (what happened)."),
    period: str = typer.Option(..., "--period", help="Billing period, YYYY-MM."),
    customer: str | None = typer.Option(None, "--customer", help="Only this customer."),
    output: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Uptime, counted and excluded downtime, and the credit owed, per customer."""
    if output not in ("table", "json"):
        raise CliError(f"--format '{output}' is not valid: use table or json")
    loaded = load(policy)
    known_facts = load_facts(facts, loaded.policy)
    contracts = load_customer_overrides(known_facts, facts, loaded.policy)
    try:
        result = evaluate(loaded, known_facts, period, customer, contracts)
    except (LookupError, ValueError) as exc:
        raise CliError(str(exc).strip("'\"")) from None
    document = as_json(result)
    if output == "json":
        typer.echo(json.dumps(document, indent=2))
        return
    _table(document)


def _seconds(text: object) -> str:
    if text is None:
        return "-"
    return human_seconds(Fraction(str(text)))


def _table(document: dict[str, Any]) -> None:
    probe = Console()
    console = Console(width=probe.width if probe.is_terminal else 140)
    policy = document["policy"]
    console.print(
        f"[bold]{policy['name']}[/bold] period {document['period']}  "
        f"(policy sha256 {policy['sha256'][:12]})"
    )
    table = Table(show_lines=False)
    for column, justify in (
        ("customer", "left"),
        ("plan", "left"),
        ("uptime %", "right"),
        ("target %", "right"),
        ("met", "center"),
        ("down", "right"),
        ("excluded", "right"),
        ("counted", "right"),
        ("allowed", "right"),
        ("credit", "right"),
        ("claim by", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for row in document["customers"]:
        credit = row["credit"]
        met = "-" if row["met"] is None else ("yes" if row["met"] else "[red]no[/red]")
        amount = f"{credit['amount']} {credit['currency']}"
        if credit["days"] is not None:
            amount += f" ({credit['days']} d)"
        elif credit["percent"] not in ("0", "0.0"):
            amount += f" ({credit['percent']} %)"
        table.add_row(
            row["id"],
            row["plan"],
            row["uptime_percent"],
            row["target_percent"] or "best effort",
            met,
            _seconds(row["downtime_seconds"]),
            _seconds(row["excluded_seconds"]),
            _seconds(row["counted_downtime_seconds"]),
            _seconds(row["allowed_downtime_seconds"]),
            amount,
            (row["claim_deadline"] or "-")[:10],
        )
    console.print(table)
    for row in document["customers"]:
        console.print(f"[bold]{row['id']}[/bold]: {row['credit']['reason']}")
        if row["termination_right"]:
            console.print("  termination right: yes (confirmed data loss)")
        for item in row["exclusions"]:
            console.print(
                f"  excluded {item['category']} {item['start']} - {item['end']}: {item['reason']}"
            )
        for item in row["ignored_exclusions"]:
            console.print(
                f"  not excluded {item['category']} {item['start']} - {item['end']}: "
                f"{item['reason']}"
            )
