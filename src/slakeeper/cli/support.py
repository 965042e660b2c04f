"""``slakeeper support review``, ``slakeeper tickets import`` and ``slakeeper worker``."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import typer

from slakeeper.cli.common import CliError, load, parse_instant
from slakeeper.cli.server import _container, _org
from slakeeper.services import notifications, tenancy, tickets
from slakeeper.services.errors import ServiceError
from slakeeper.services.support_offline import review_csv
from slakeeper.services.support_review import review_json, review_table

support_app = typer.Typer(help="Support requests: the SLA review.", no_args_is_help=True)
tickets_app = typer.Typer(help="Support requests on the server.", no_args_is_help=True)


def _period(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    begin = parse_instant(start, "--from") if start else datetime(1970, 1, 1, tzinfo=UTC)
    finish = parse_instant(end, "--to") if end else datetime(9000, 1, 1, tzinfo=UTC)
    if finish <= begin:
        raise CliError("--to must be after --from")
    return begin, finish


@support_app.command("review")
def review_command(
    policy: str | None = typer.Option(None, "--policy", help="Policy file (offline review)."),
    requests: str | None = typer.Option(None, "--tickets", help="CSV of requests (offline)."),
    org: str | None = typer.Option(None, "--org", help="Organisation slug (server review)."),
    start: str | None = typer.Option(None, "--from", help="Period start (RFC 3339)."),
    end: str | None = typer.Option(None, "--to", help="Period end, exclusive (RFC 3339)."),
    now: str | None = typer.Option(
        None,
        "--now",
        help="Judge open clocks at this instant (default: offline, the latest "
        "instant in the CSV; on the server, now).",
    ),
    output: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """The SLA review: attainment, median and p90 against targets, findings; offline from a
    policy and a CSV (also listing every breach and by how much), or from the server."""
    if output not in ("table", "json"):
        raise CliError(f"--format '{output}' is not valid: use table or json")
    begin, finish = _period(start, end)
    moment = parse_instant(now, "--now") if now else None
    if org is not None:
        container = _container()
        principal = tenancy.cli_principal(_org(container, org))
        with container.uow() as uow:
            try:
                result = tickets.support_review(
                    uow, principal, begin, finish, moment or container.clock.now()
                )
            except ServiceError as exc:
                raise CliError(exc.message, 1) from None
        _print(review_json(result) if output == "json" else review_table(result), output)
        return
    if policy is None or requests is None:
        raise CliError("give --policy and --tickets (offline), or --org (server)")
    loaded = load(policy)
    try:
        text = Path(requests).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CliError(f"{requests}: cannot read: {exc.strerror or exc}", 1) from None
    found = review_csv(text, loaded.policy, start=begin, end=finish, now=moment)
    if found.review is None:
        for problem in found.imported.problems:
            typer.echo(f"error: {requests}: {problem}", err=True)
        raise typer.Exit(1)
    if output == "json":
        document = review_json(found.review)
        document["breaches"] = [
            {"ticket": b.ticket, "customer": b.customer, "plan": b.plan, "severity": b.severity,
             "clock": b.clock, "cycle": b.cycle, "due_at": b.due_at.isoformat(),
             "stopped_at": b.stopped_at.isoformat() if b.stopped_at else None, "over": b.over}
            for b in found.breaches
        ]  # fmt: skip
        _print(document, output)
        return
    lines = [review_table(found.review), "", f"Breaches ({len(found.breaches)})"]
    for b in found.breaches:
        stopped = f"answered {b.stopped_at:%Y-%m-%d %H:%M %Z}" if b.stopped_at else "still open"
        lines.append(
            f"  {b.ticket} {b.customer} ({b.plan or 'no plan'}) {b.severity} {b.clock}"
            f"{'' if b.cycle == 1 else f' (cycle {b.cycle})'}: due {b.due_at:%Y-%m-%d %H:%M %Z},"
            f" {stopped}, {b.over} of business time over"
        )
    _print("\n".join(lines), output)


def _print(document: object, output: str) -> None:
    typer.echo(json.dumps(document, indent=2) if output == "json" else str(document))


@tickets_app.command("import")
def import_command(
    file: str = typer.Argument(..., help="CSV of past requests."),
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only report unreadable rows."),
) -> None:
    """Import past requests into the server; nothing is stored if any row cannot be read."""
    container = _container()
    principal = tenancy.cli_principal(_org(container, org))
    try:
        text = Path(file).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CliError(f"{file}: cannot read: {exc.strerror or exc}", 1) from None
    with container.uow() as uow:
        try:
            result = tickets.import_csv(
                uow, principal, text, dry_run=dry_run, now=container.clock.now()
            )
        except ServiceError as exc:
            raise CliError(exc.message, 1) from None
        if not dry_run and not result.problems:
            uow.commit()
    for problem in result.problems:
        typer.echo(f"error: {file}: {problem}", err=True)
    if result.problems:
        raise typer.Exit(1)
    verb = "readable" if dry_run else "imported"
    typer.echo(f"{len(result.rows)} requests {verb}")


def worker_command(
    once: bool = typer.Option(False, "--once", help="One pass, then exit."),
    interval: float = typer.Option(30.0, "--interval", help="Seconds between passes."),
) -> None:
    """Find newly at-risk and breached clocks, write them to the outbox and the audit log, and
    deliver due notifications (SLAKEEPER_WEBHOOK_URL); catches up after any restart."""
    container = _container()
    while True:
        report = notifications.run_once(
            container.uow,
            container.notifier,
            container.clock.now(),
            subscribers=container.subscriber_notifier,
        )
        typer.echo(
            f"{report.alerts_moved} SLO alert changes, "
            f"{report.written} new notifications, {report.delivered} delivered, "
            f"{report.failed} failed"
            + (
                ""
                if container.notifier
                else " (no SLAKEEPER_WEBHOOK_URL or SLAKEEPER_SMTP_HOST: kept in the outbox)"
            )
        )
        if once:
            return
        time.sleep(interval)
