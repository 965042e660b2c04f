"""``slakeeper calendar due|elapsed``: business time on a policy's calendars."""

from __future__ import annotations

import json
from datetime import datetime

import typer

from slakeeper.cli.common import CliError, load, parse_instant
from slakeeper.domain.intervals import seconds
from slakeeper.policy.types import format_duration, parse_duration
from slakeeper.services import clock
from slakeeper.services.evaluate import decimal_seconds, instant

app = typer.Typer(help="Business time on a policy's calendars.", no_args_is_help=True)

PolicyOption = typer.Option(..., "--policy", help="Policy file.")
CalendarOption = typer.Option(..., "--calendar", help="Calendar id in the policy.")
PauseOption = typer.Option([], "--pause", help="A paused span START/END (RFC 3339); repeatable.")


def _pauses(values: list[str]) -> list[tuple[datetime, datetime]]:
    spans = []
    for value in values:
        if value.count("/") != 1:
            raise CliError(
                f"--pause '{value}' is not START/END, "
                "e.g. 2026-03-09T15:00:00Z/2026-03-09T16:00:00Z"
            )
        start_text, end_text = value.split("/")
        start = parse_instant(start_text, "--pause start")
        end = parse_instant(end_text, "--pause end")
        if end < start:
            raise CliError(f"--pause '{value}' ends before it starts")
        spans.append((start, end))
    return spans


@app.command("due")
def due_command(
    policy: str = PolicyOption,
    calendar: str = CalendarOption,
    start: str = typer.Option(..., "--start", help="When the clock starts (RFC 3339)."),
    duration: str = typer.Option(..., "--duration", help="Business time, e.g. 4h30m."),
    pause: list[str] = PauseOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The instant (UTC) when DURATION of open calendar time has elapsed after START."""
    loaded = load(policy)
    begin = parse_instant(start, "--start")
    try:
        length = parse_duration(duration)
    except ValueError as exc:
        raise CliError(f"--duration: {exc}") from None
    try:
        result = clock.due(loaded.policy, calendar, begin, length, _pauses(pause))
    except (LookupError, ValueError) as exc:
        raise CliError(str(exc).strip("'\"")) from None
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "calendar": calendar,
                    "start": instant(begin),
                    "duration": format_duration(length),
                    "due": instant(result),
                }
            )
        )
    else:
        typer.echo(instant(result))


@app.command("elapsed")
def elapsed_command(
    policy: str = PolicyOption,
    calendar: str = CalendarOption,
    start: str = typer.Option(..., "--start", help="Start instant (RFC 3339)."),
    end: str = typer.Option(..., "--end", help="End instant (RFC 3339)."),
    pause: list[str] = PauseOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The open, unpaused seconds of the calendar between START and END."""
    loaded = load(policy)
    begin = parse_instant(start, "--start")
    finish = parse_instant(end, "--end")
    try:
        result = clock.elapsed(loaded.policy, calendar, begin, finish, _pauses(pause))
    except (LookupError, ValueError) as exc:
        raise CliError(str(exc).strip("'\"")) from None
    text = decimal_seconds(seconds(result))
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "calendar": calendar,
                    "start": instant(begin),
                    "end": instant(finish),
                    "elapsed_seconds": text,
                    "elapsed": format_duration(result),
                }
            )
        )
    else:
        typer.echo(text)
