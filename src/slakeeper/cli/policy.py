"""``slakeeper policy check|explain|schema|lint|render``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from slakeeper.cli.common import CliError, load
from slakeeper.policy.errors import PolicyError, did_you_mean, one_of
from slakeeper.policy.located import load_with_source
from slakeeper.policy.models import Policy
from slakeeper.policy.overrides import load_overrides_file
from slakeeper.services.agreement import Format, render_agreement
from slakeeper.services.explain import explain
from slakeeper.services.lint import format_finding, lint

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


@app.command("lint")
def lint_command(
    files: list[str] = typer.Argument(..., help="Policy files to lint."),
    output: str = typer.Option("text", "--format", help="text or json."),
) -> None:
    """Find the SLA mistakes of seed 004 and numbers that disagree (docs/lint.md).

    Exits 0 when clean, 1 with warnings only, 2 with errors (an invalid file is an error).
    """
    if output not in ("text", "json"):
        raise CliError(f"--format '{output}' is not known: use text or json")
    exit_code = 0
    report: list[dict[str, object]] = []
    for file in files:
        try:
            loaded, source = load_with_source(file)
        except PolicyError as exc:
            exit_code = 2
            report.append(
                {"file": file, "valid": False, "problems": [p.as_dict() for p in exc.problems]}
            )
            if output == "text":
                for problem in exc.problems:
                    print(f"error: {problem}", file=sys.stderr)
            continue
        result = lint(loaded, source)
        exit_code = max(exit_code, result.exit_code)
        report.append(result.as_dict())
        if output == "text":
            for finding in result.findings:
                typer.echo(format_finding(file, finding))
            typer.echo(result.summary())
    if output == "json":
        typer.echo(json.dumps(report, indent=2))
    raise typer.Exit(exit_code)


@app.command("render")
def render_command(
    file: str = typer.Argument(..., help="Policy file."),
    plan: str = typer.Option(..., "--plan", help="Plan id, e.g. enterprise."),
    overrides_file: str | None = typer.Option(
        None, "--customer-overrides", help="A customer's overrides file (docs/agreement.md)."
    ),
    output: str = typer.Option("md", "--format", help="md, html or pdf."),
    out: str | None = typer.Option(
        None, "--out", help="File to write (default: standard output; pdf needs --out)."
    ),
) -> None:
    """Render the customer-facing agreement of one plan from the policy it is enforced by."""
    formats = [item.value for item in Format]
    if output not in formats:
        raise CliError(
            f"--format '{output}' is not known{did_you_mean(output, formats)}: use md, html or pdf"
        )
    if output == Format.PDF and out is None:
        raise CliError("--format pdf writes binary data: give --out FILE")
    loaded = load(file)
    plans = [item.id for item in loaded.policy.plans]
    if plan not in plans:
        raise CliError(
            f"unknown plan '{plan}'{did_you_mean(plan, plans)} (defined: {one_of(plans)})"
        )
    overrides = None
    if overrides_file is not None:
        overrides = load_overrides_file(overrides_file, loaded.policy, plan)
    rendered = render_agreement(loaded, plan, Format(output), overrides)
    if out is None:
        sys.stdout.write(rendered.content.decode("utf-8"))
        return
    try:
        Path(out).write_bytes(rendered.content)
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc.strerror or exc}") from None
    typer.echo(
        f"{out}: {rendered.media_type.split(';')[0]}, {len(rendered.content)} bytes", err=True
    )
