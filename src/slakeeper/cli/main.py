"""The ``slakeeper`` command line.

Every error is one line on stderr (a policy error: one line per problem) and a non-zero exit;
never a traceback.
"""

from __future__ import annotations

import sys

import typer

from slakeeper import __version__
from slakeeper.cli import agent, calendar, close, demo, evaluate, policy, server, support
from slakeeper.cli.common import CliError
from slakeeper.policy.errors import PolicyError

app = typer.Typer(
    name="slakeeper",
    help="Run a service level agreement end to end from one policy file.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(policy.app, name="policy")
app.add_typer(calendar.app, name="calendar")
app.command("evaluate")(evaluate.evaluate_command)
app.command("serve")(server.serve_command)
app.command("demo")(demo.demo_command)
app.add_typer(server.db_app, name="db")
app.add_typer(server.org_app, name="org")
app.add_typer(server.key_app, name="key")
app.add_typer(server.audit_app, name="audit")
app.add_typer(server.integrity_app, name="integrity")
app.add_typer(server.operator_app, name="operator")
app.add_typer(support.support_app, name="support")
app.add_typer(support.tickets_app, name="tickets")
app.command("worker")(support.worker_command)
app.command("agent")(agent.agent_command)
app.command("close")(close.close_command)
app.command("report")(close.report_command)
app.add_typer(close.ledger_app, name="ledger")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"slakeeper {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Run a service level agreement end to end from one policy file."""


def run() -> None:
    """Console entry point: typer's app, with every error turned into one line."""
    import click

    try:
        code = app(standalone_mode=False)
    except PolicyError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        sys.exit(1)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        print("error: aborted", file=sys.stderr)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:  # the last line of defence: a person never sees a traceback
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(3)
    sys.exit(code if isinstance(code, int) else 0)
