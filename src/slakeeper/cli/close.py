"""``slakeeper close``, ``slakeeper report`` and ``slakeeper ledger export | verify``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from slakeeper.cli.common import CliError
from slakeeper.cli.server import _container, _org
from slakeeper.services import close, ledger
from slakeeper.services.errors import ServiceError

ledger_app = typer.Typer(help="The credit ledger: export and verify.", no_args_is_help=True)

PERIOD = typer.Option(..., "--period", help="The month, YYYY-MM.")
ORG = typer.Option(..., "--org", help="Organisation slug.")


def close_command(
    period: str = PERIOD,
    org: str = ORG,
    reason: str | None = typer.Option(
        None, "--reason", help="Why a closed period is closed again (a new revision)."
    ),
    reports: Path | None = typer.Option(
        None, "--reports", help="Also write every customer's report (JSON and PDF) here."
    ),
) -> None:
    """Close the period for every customer: reports and credits recorded for good (a closed
    period is only ever re-closed as a new revision)."""
    container = _container()
    found = _org(container, org)
    with Progress(
        TextColumn("closing {task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), transient=False,
    ) as bar:  # fmt: skip
        task = bar.add_task(period, total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        with container.uow() as uow:
            try:
                result = close.close_period(
                    uow, found, period, container.clock.now(), actor="cli", reason=reason,
                    progress=progress,
                )  # fmt: skip
            except (ServiceError, ValueError) as exc:
                raise CliError(str(exc)) from None
            uow.commit()
    owed = [c for c in result.credits if c.amount > 0]
    typer.echo(
        f"{period} closed (revision {result.close.revision}, policy version "
        f"{result.close.policy_version}): {result.close.customers} customers, "
        f"{len(owed)} credits"
    )
    for credit in owed:
        typer.echo(f"  {credit.customer_id}: {credit.amount} {credit.currency} ({credit.state})")
    for change in result.changed:
        typer.echo(
            f"  changed {change['customer']}: {change['before']} -> {change['after']} "
            f"({change['difference']})"
        )
    if reports is not None:
        reports.mkdir(parents=True, exist_ok=True)
        with container.uow() as uow:
            for customer in uow.customers.list(found.id, None, 1_000_000):
                stored = uow.closes.report(found.id, period, customer.id)
                if stored is not None:
                    _write_report(stored.document, "json", reports / f"{customer.id}-{period}.json")
        typer.echo(f"reports written to {reports}")


def report_command(
    customer: str = typer.Option(..., "--customer", help="The customer's id."),
    period: str = PERIOD,
    org: str = ORG,
    output: str = typer.Option("json", "--format", help="json, html or pdf."),
    out: Path | None = typer.Option(None, "--out", help="File to write (default: stdout)."),
    revision: int | None = typer.Option(None, "--revision", help="Default: the latest."),
) -> None:
    """A customer's SLA report of a closed period."""
    if output not in ("json", "html", "pdf"):
        raise CliError(f"--format {output!r}: use json, html or pdf")
    if output == "pdf" and out is None:
        raise CliError("a PDF needs --out FILE")
    container = _container()
    found = _org(container, org)
    with container.uow() as uow:
        stored = uow.closes.report(found.id, period, customer, revision)
    if stored is None:
        raise CliError(
            f"no report of {customer} for {period}: close the period first (slakeeper close)"
        )
    _write_report(stored.document, output, out)


def _write_report(document: str, output: str, out: Path | None) -> None:
    if output == "json":
        data = json.dumps(json.loads(document), indent=2, ensure_ascii=False).encode() + b"\n"
    else:
        from slakeeper.services.report_render import render_report

        data = render_report(json.loads(document), "pdf" if output == "pdf" else "html")
    if out is None:
        typer.echo(data.decode())
    else:
        out.write_bytes(data)


@ledger_app.command("export")
def ledger_export(
    org: str = ORG,
    output: str = typer.Option("csv", "--format", help="csv or json."),
    customer: str | None = typer.Option(None, "--customer", help="Only this customer."),
    period: str | None = typer.Option(None, "--period", help="Only this month."),
    out: Path | None = typer.Option(None, "--out", help="File to write (default: stdout)."),
) -> None:
    """Every credit transition, hash-chained: the dispute export."""
    if output not in ("csv", "json"):
        raise CliError(f"--format {output!r}: use csv or json")
    container = _container()
    found = _org(container, org)
    with container.uow() as uow:
        rows = ledger.rows(uow.closes.ledger(found.id), customer, period)
    text = ledger.to_csv(rows) if output == "csv" else json.dumps(rows, indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


@ledger_app.command("verify")
def ledger_verify(org: str = ORG) -> None:
    """Check the ledger's hash chain, then re-compute every closed period's credits from the
    stored measurements and policy versions: exit 0 when all agree to the cent."""
    container = _container()
    found = _org(container, org)
    with container.uow() as uow:
        entries = uow.closes.ledger(found.id)
        problems = ledger.verify_chain(entries, uow.closes.ledger_head(found.id))
        try:
            differences = close.recompute_differences(uow, found)
        except ServiceError as exc:
            raise CliError(str(exc)) from None
    for problem in problems:
        typer.echo(f"error: ledger entry {problem.seq}: {problem.message}", err=True)
    for d in differences:
        typer.echo(
            f"error: {d.period} {d.customer}: recorded {d.recorded} {d.currency}, "
            f"recomputed {d.recomputed} {d.currency}",
            err=True,
        )
    if problems or differences:
        raise typer.Exit(1)
    typer.echo(f"ledger of {org} intact: {len(entries)} entries; every credit re-computed equal")
