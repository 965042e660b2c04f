"""``slakeeper serve | db upgrade | org create | key create | audit verify``."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from datetime import datetime
from pathlib import Path

import typer

from slakeeper import bootstrap
from slakeeper.cli.common import CliError
from slakeeper.config import Settings
from slakeeper.services import (
    audit,
    customers,
    integrity,
    notifications,
    operators,
    policy_versions,
    tenancy,
)
from slakeeper.services.errors import ServiceError
from slakeeper.services.facts import load_facts
from slakeeper.services.ports import UnitOfWork
from slakeeper.services.records import Customer, Organisation, Principal, Scope

db_app = typer.Typer(help="The database: migrations.", no_args_is_help=True)
org_app = typer.Typer(help="Organisations (tenants).", no_args_is_help=True)
key_app = typer.Typer(help="API keys.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
operator_app = typer.Typer(help="Operator accounts (the dashboard).", no_args_is_help=True)
integrity_app = typer.Typer(help="The ingest ledger against the aggregates.", no_args_is_help=True)


def _container(require_migrated: bool = True) -> bootstrap.Container:
    container = bootstrap.build(Settings())
    if require_migrated:
        try:
            migrated = container.is_migrated()
        except bootstrap.UNAVAILABLE_ERRORS as exc:
            raise CliError(f"cannot reach the database: {type(exc).__name__}", 1) from None
        if not migrated:
            raise CliError(
                "the database is not migrated: run `slakeeper db upgrade` first "
                f"(database: {_safe_url(container.settings.database_url)})",
                1,
            )
    return container


def _safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _org(container: bootstrap.Container, slug: str) -> Organisation:
    with container.uow() as uow:
        org = uow.organisations.by_slug(slug)
    if org is None:
        raise CliError(f"organisation '{slug}' does not exist (create it: slakeeper org create)")
    return org


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration the database lacks."""
    container = _container(require_migrated=False)
    container.upgrade()
    typer.echo(f"database at the newest revision ({_safe_url(container.settings.database_url)})")


@org_app.command("create")
def org_create(
    slug: str = typer.Option(..., "--slug", help="Short id, e.g. acme."),
    name: str = typer.Option(..., "--name", help="Display name."),
) -> None:
    """Create an organisation; prints its first admin key (shown once)."""
    container = _container()
    with container.uow() as uow:
        try:
            org, issued = tenancy.create_organisation(
                uow, slug=slug, name=name, actor="cli", now=container.clock.now()
            )
        except ServiceError as exc:
            raise CliError(exc.message, 1) from None
        uow.commit()
    typer.echo(f"organisation {org.slug} created ({org.id})")
    typer.echo(f"admin key (shown once): {issued.secret}")


@key_app.command("create")
def key_create(
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    scope: list[Scope] = typer.Option(..., "--scope", help="admin, write, read, ingest, probe."),
    name: str = typer.Option("cli key", "--name", help="What the key is for."),
    customer: str | None = typer.Option(
        None, "--customer", help="Bind a read key to one customer."
    ),
) -> None:
    """Create an API key; prints it once."""
    container = _container()
    principal = tenancy.cli_principal(_org(container, org))
    with container.uow() as uow:
        try:
            issued = tenancy.create_key(
                uow, principal, name=name, scopes=scope, customer_id=customer,
                now=container.clock.now(),
            )  # fmt: skip
        except ServiceError as exc:
            raise CliError(exc.message, 1) from None
        uow.commit()
    typer.echo(issued.secret)


@audit_app.command("verify")
def audit_verify(org: str = typer.Option(..., "--org", help="Organisation slug.")) -> None:
    """Check the audit log's hash chain: exit 0 when intact, 1 with every break listed."""
    container = _container()
    found = _org(container, org)
    with container.uow() as uow:
        entries = uow.audit.all(found.id)
    problems = audit.verify(entries, found.audit_head_seq, found.audit_head_hash)
    if problems:
        for problem in problems:
            typer.echo(f"error: audit entry {problem.seq}: {problem.message}", err=True)
        raise typer.Exit(1)
    typer.echo(f"audit log of {org} intact: {len(entries)} entries")


@operator_app.command("create")
def operator_create(
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    email: str = typer.Option(..., "--email", help="Sign-in email."),
    name: str = typer.Option("", "--name", help="Display name."),
    password_env: str = typer.Option(
        "SLAKEEPER_OPERATOR_PASSWORD", "--password-env", help="Variable holding the password."
    ),
) -> None:
    """Create an operator account (the password comes from an environment variable, or is
    asked for), for the dashboard at /."""
    password = os.environ.get(password_env) or typer.prompt(
        "password", hide_input=True, confirmation_prompt=True
    )
    container = _container()
    found = _org(container, org)
    with container.uow() as uow:
        try:
            created = operators.create(
                uow, found, email=email, name=name, password=password, now=container.clock.now()
            )
        except ServiceError as exc:
            raise CliError(str(exc)) from None
        uow.commit()
    typer.echo(f"operator {created.email} created in {org}")


@integrity_app.command("check")
def integrity_check(
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    output: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Reconcile the ledger of accepted ingest batches with the stored aggregates: exit 0 when
    every count matches exactly, 1 with the differences."""
    container = _container()
    found = _org(container, org)
    with container.uow() as uow:
        report = integrity.check(uow, found.id)
    if output == "json":
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        typer.echo(f"{'count':<18}{'ledger':>14}{'stored':>14}{'difference':>12}")
        for line in report.lines:
            typer.echo(f"{line.name:<18}{line.ledger:>14}{line.stored:>14}{line.difference:>12}")
        verdict = "reconciles exactly" if report.ok else "DOES NOT reconcile"
        typer.echo(f"{report.batches} batches: the ledger {verdict} with the aggregates")
    if not report.ok:
        raise typer.Exit(1)


def serve_command(
    host: str | None = typer.Option(None, "--host", help="Listen address."),
    port: int | None = typer.Option(None, "--port", help="Listen port."),
    demo: bool = typer.Option(
        False, "--demo", help="Migrate, load the example policies into a demo organisation."
    ),
    workers: bool = typer.Option(
        True,
        "--workers/--no-workers",
        help="Run the evaluator and notifier in this process too (off for API-only replicas).",
    ),
    interval: float = typer.Option(
        30.0, "--worker-interval", help="Seconds between background worker passes."
    ),
) -> None:
    """Run the API server (uvicorn), and unless --no-workers, the background workers."""
    import uvicorn

    from slakeeper.api.app import create_app

    settings = Settings()
    bind_host = host or settings.host
    bind_port = port or settings.port
    if demo:
        container = _container(require_migrated=False)
        container.upgrade()
        _demo(container, f"http://{bind_host}:{bind_port}")
    container = _container()
    app = create_app(container)
    if workers:
        _start_workers(container, interval)
    typer.echo(f"slakeeper listening on http://{bind_host}:{bind_port} (docs: /docs)")
    uvicorn.run(app, host=bind_host, port=bind_port, log_level="warning", access_log=False)


def _start_workers(container: bootstrap.Container, interval: float) -> None:
    """The evaluator and notifier on a daemon thread: a pass every ``interval`` seconds; a
    failed pass is logged and the next one catches up from stored data."""
    log = logging.getLogger("slakeeper.worker")

    def loop() -> None:
        while True:
            try:
                notifications.run_once(
                    container.uow,
                    container.notifier,
                    container.clock.now(),
                    subscribers=container.subscriber_notifier,
                )
            except Exception:
                log.exception("worker pass failed; the next pass catches up")
            time.sleep(interval)

    threading.Thread(target=loop, name="slakeeper-worker", daemon=True).start()


def _demo_customers(uow: UnitOfWork, principal: Principal, now: datetime) -> None:
    """The customers of the example October 2026 facts, on the active (trulayer) policy."""
    facts_file = Path("examples/facts/trulayer-2026-10.yaml")
    if not facts_file.is_file():
        return
    policy = policy_versions.active_policy(uow, principal.org_id)
    for fact in load_facts(facts_file, policy).customers:
        customer = Customer(
            org_id=principal.org_id,
            id=fact.id,
            name=fact.id.title(),
            plan=fact.plan,
            monthly_fee=fact.monthly_fee,
            annual_fee=fact.annual_fee,
            currency=fact.currency or policy.metadata.currency,
            billing_period="monthly",
            timezone=fact.timezone or policy.metadata.timezone,
            contract_start=fact.start,
            contract_end=fact.end,
        )
        customers.create(uow, principal, customer, now)


def _demo(container: bootstrap.Container, base_url: str) -> None:
    """A demo organisation with the example policies (trulayer active) and its customers."""
    examples = Path("examples/policies")
    now = container.clock.now()
    with container.uow() as uow:
        org = uow.organisations.by_slug("demo")
        if org is None:
            org, _ = tenancy.create_organisation(
                uow, slug="demo", name="Demo organisation", actor="cli", now=now
            )
        principal = tenancy.cli_principal(org)
        if uow.policies.latest_number(org.id) == 0 and examples.is_dir():
            for path in sorted(examples.glob("*.yaml")):
                if path.name != "trulayer.yaml":
                    policy_versions.upload(
                        uow, principal, path.read_text("utf-8"), activate=False, now=now
                    )
            policy_versions.upload(
                uow, principal, (examples / "trulayer.yaml").read_text("utf-8"), now=now
            )
            _demo_customers(uow, principal, now)
        issued = tenancy.create_key(
            uow, principal, name="demo admin", scopes=[Scope.ADMIN], customer_id=None, now=now
        )
        uow.commit()
    typer.echo(f"demo organisation ready: {base_url}/docs")
    typer.echo(f"status page: {base_url}/status/demo")
    typer.echo(f"admin key (shown once): {issued.secret}")
    url = f"{base_url}/api/v1/customers"
    typer.echo(f"try: curl -H 'Authorization: Bearer {issued.secret}' {url}")
