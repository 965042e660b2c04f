"""``slakeeper policy check|explain|schema``."""

from __future__ import annotations

import json
import sys

import typer

from slakeeper.cli.common import load
from slakeeper.policy.errors import PolicyError
from slakeeper.policy.models import Policy
from slakeeper.services.explain import explain

app = typer.Typer(help="Check, explain and describe policy files.", no_args_is_help=True)


@app.command("check")
def check_command(
    files: list[str] = typer.Argument(..., help="Policy files to check."),
    output: str = typer.Option("text", "--format", help="text or json."),
) -> None:
    """Validate policy files: one line per valid file, every problem of the others."""
    failed = False
    report: list[dict[str, object]] = []
    for file in files:
        try:
            loaded = load(file)
        except PolicyError as exc:
            failed = True
            report.append(
                {"file": file, "valid": False, "problems": [p.as_dict() for p in exc.problems]}
            )
            if output == "text":
                for problem in exc.problems:
                    print(f"error: {problem}", file=sys.stderr)
            continue
        policy = loaded.policy
        report.append(
            {"file": file, "valid": True, "name": policy.metadata.name, "sha256": loaded.sha256}
        )
        if output == "text":
            typer.echo(
                f"{file}: ok ({policy.metadata.name}: {len(policy.plans)} plans, "
                f"{len(policy.components)} components, sha256 {loaded.sha256[:12]})"
            )
    if output == "json":
        typer.echo(json.dumps(report, indent=2))
    if failed:
        raise typer.Exit(1)


@app.command("explain")
def explain_command(file: str = typer.Argument(..., help="Policy file.")) -> None:
    """A readable summary per plan: target, allowed downtime, credits, support targets."""
    typer.echo(explain(load(file)))


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of the policy language (for editors)."""
    schema = Policy.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "slakeeper policy (apiVersion slakeeper/v1)"
    typer.echo(json.dumps(schema, indent=2, sort_keys=True))
