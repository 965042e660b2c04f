"""``slakeeper demo``: five organisations, a generated month each, closed, then served."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

import slakeeper
from slakeeper import bootstrap
from slakeeper.cli.common import CliError
from slakeeper.cli.server import _safe_url, _start_workers
from slakeeper.config import Settings
from slakeeper.policy.errors import PolicyError
from slakeeper.services import close, demo_load, operators
from slakeeper.services.close import CloseResult
from slakeeper.services.demo_month import demo_month, previous_month
from slakeeper.services.demo_script import MonthScript, facts_files, facts_text
from slakeeper.services.errors import ServiceError

DEFAULT_DATABASE = "sqlite:///./slakeeper-demo.db"
#: Characters of the generated operator passwords (easy to copy: no punctuation).
ALPHABET = string.ascii_letters + string.digits
#: The seed policies, one organisation each (the slug is the policy's name).
SEEDS = ("trulayer", "opsmantik", "oneai", "generic-saas", "ai-agency")


@dataclass(frozen=True)
class DemoOrganisation:
    script: MonthScript
    admin_key: str
    password: str
    closed: CloseResult


def demo_command(
    host: str | None = typer.Option(None, "--host", help="Listen address."),
    port: int | None = typer.Option(None, "--port", help="Listen port."),
    database: str | None = typer.Option(
        None,
        "--database",
        help="SQLAlchemy URL. Default: a new SQLite file ./slakeeper-demo.db. A SQLite file is "
        "replaced if it exists; another store must not hold the demo's organisations.",
    ),
    serve: bool = typer.Option(
        True, "--serve/--no-serve", help="Serve the API, dashboard and status pages afterwards."
    ),
    facts: Path | None = typer.Option(
        None, "--facts", help="Also write each organisation's facts file (for evaluate) here."
    ),
    seed: int = typer.Option(2026, "--seed", help="Seed of the generated months."),
) -> None:
    """Build a demo database: the five seed policies, each with an organisation, customers and
    a generated month (outages, maintenance, incidents, support requests, a data loss), the
    month closed; print the sign-ins and URLs, then serve it like `slakeeper serve`."""
    policies = _policies()
    url = database or DEFAULT_DATABASE
    defaults = Settings()
    bind_host, bind_port = host or defaults.host, port or defaults.port
    _replace_sqlite_file(url)
    container = bootstrap.build(Settings(database_url=url, host=bind_host, port=bind_port))
    try:
        container.upgrade()
        with container.uow() as uow:
            taken = [slug for slug in SEEDS if uow.organisations.by_slug(slug) is not None]
    except bootstrap.UNAVAILABLE_ERRORS as exc:
        message = f"cannot reach the database {_safe_url(url)}: {type(exc).__name__}"
        raise CliError(message, 1) from None
    if taken:
        raise CliError(
            f"the database {_safe_url(url)} already holds organisation {taken[0]}: give an "
            "empty database (or a SQLite file, which is replaced)",
            1,
        )
    now = container.clock.now()
    period = previous_month(now)
    try:
        built = _build(container, policies, period, seed)
    except (ServiceError, ValueError, PolicyError) as exc:
        raise CliError(f"the demo could not be built: {exc}", 1) from None
    if facts is not None:
        _write_facts(facts, built, period)
    base = f"http://{bind_host}:{bind_port}"
    _summary(built, period, base, url)
    if not serve:
        return
    import uvicorn

    from slakeeper.api.app import create_app

    app = create_app(container)
    _start_workers(container, 30.0)
    typer.echo(f"\nserving on {base} (Ctrl-C to stop)")
    uvicorn.run(app, host=bind_host, port=bind_port, log_level="warning", access_log=False)


def _policies() -> dict[str, str]:
    """The seed policies' YAML: from ./examples/policies, else beside the installed sources."""
    candidates = [
        Path.cwd() / "examples" / "policies",
        Path(slakeeper.__file__).resolve().parents[2] / "examples" / "policies",
    ]
    for directory in candidates:
        if all((directory / f"{slug}.yaml").is_file() for slug in SEEDS):
            return {slug: (directory / f"{slug}.yaml").read_text("utf-8") for slug in SEEDS}
    raise CliError("the example policies (examples/policies/*.yaml) were not found: run the "
                   "demo from the repository's root")  # fmt: skip


def _replace_sqlite_file(url: str) -> None:
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # SQLAlchemy raises ArgumentError; any bad URL is the same to a person
        raise CliError(f"--database {url!r} is not a database URL") from None
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return
    path = Path(parsed.database or "")
    for suffix in ("", "-wal", "-shm", "-journal"):
        candidate = path.with_name(path.name + suffix)
        if candidate.is_file():
            candidate.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)


def _build(
    container: bootstrap.Container, policies: dict[str, str], period: str, seed: int
) -> list[DemoOrganisation]:
    built = []
    columns = (TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, transient=False) as bar:
        for slug, source in policies.items():
            task = bar.add_task(f"{slug}: generating {period}", total=None)

            def progress(
                stage: str, done: int, total: int, slug: str = slug, task: TaskID = task
            ) -> None:
                bar.update(task, description=f"{slug}: {stage}", completed=done, total=total)

            script = demo_month(source, period, seed=seed)
            loaded = demo_load.load(container.uow, script, progress=progress)
            now = container.clock.now()
            password = "".join(secrets.choice(ALPHABET) for _ in range(16))
            with container.uow() as uow:
                closed = close.close_period(
                    uow, loaded.org, period, now, actor="demo",
                    progress=lambda done, total: progress(f"closing {period}", done, total),
                )  # fmt: skip
                operators.create(uow, loaded.org, email=f"operator@{slug}.demo",
                                 name=f"{script.name} operator", password=password,
                                 now=now)  # fmt: skip
                uow.commit()
            built.append(DemoOrganisation(script, loaded.admin_key, password, closed))
    return built


def _write_facts(directory: Path, built: list[DemoOrganisation], period: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for organisation in built:
        for found in facts_files(organisation.script):
            suffix = "" if found.name == "all" else f"-{found.name}"
            name = f"{organisation.script.slug}-{period}{suffix}.json"
            (directory / name).write_text(facts_text(found.document), encoding="utf-8")


def _summary(built: list[DemoOrganisation], period: str, base: str, url: str) -> None:
    typer.echo(
        f"\n{len(built)} organisations, each with {period} generated and closed "
        f"(database: {_safe_url(url)})"
    )
    typer.echo(f"dashboard: {base}/")
    typer.echo(f"API docs: {base}/docs")
    for organisation in built:
        script = organisation.script
        owed = sorted((c for c in organisation.closed.credits if c.amount > 0),
                      key=lambda c: (-c.amount, c.customer_id))  # fmt: skip
        credits = ", ".join(f"{c.customer_id} {c.amount} {c.currency}" for c in owed) or "none"
        typer.echo(
            f"\n{script.slug} ({script.name}): {len(script.customers)} customers, "
            f"credits: {credits}"
        )
        typer.echo(f"  status page: {base}/status/{script.slug}")
        typer.echo(f"  operator: operator@{script.slug}.demo")
        typer.echo(f"  password (shown once): {organisation.password}")
        typer.echo(f"  admin key (shown once): {organisation.admin_key}")
        customer = owed[0].customer_id if owed else script.customers[0].id
        report = f"{base}/api/v1/reports/{customer}/{period}?format=pdf"
        typer.echo(
            f"  report: curl -H 'Authorization: Bearer {organisation.admin_key}' "
            f"-o {customer}-{period}.pdf '{report}'"
        )
