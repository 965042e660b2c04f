"""How the dashboard writes numbers, instants, durations and clocks (display only: the exact
values stay in the services; nothing here feeds a computation)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from slakeeper.domain.support_clock import ClockResult
from slakeeper.services.records import iso

CLOCK_LABELS = {
    "running": "Running",
    "paused": "Paused",
    "met": "Met",
    "breached": "Breached",
    "no-target": "No target",
}
STATUS_LABELS = {
    "operational": "Operational",
    "degraded-performance": "Degraded performance",
    "partial-outage": "Partial outage",
    "major-outage": "Major outage",
    "under-maintenance": "Under maintenance",
    "no-data": "No data",
}


def when(value: datetime | None) -> str:
    """An instant as the pages print it (UTC, to the minute); an empty string for None."""
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def instant(value: datetime | None) -> dict[str, str] | None:
    """An instant for a ``<time>`` element: machine text and human text."""
    return None if value is None else {"iso": iso(value) or "", "text": when(value)}


def duration(value: timedelta | Decimal | str | None) -> str:
    """``2 d 3 h``, ``1 h 05 min``, ``4 h``, ``12 min``, ``40 s`` (seconds go past an hour)."""
    if value is None:
        return ""
    if isinstance(value, timedelta):
        total = Decimal(value // timedelta(microseconds=1)) / 1_000_000
    elif isinstance(value, str):  # the services write exact seconds: "90", "90.5" or "181/2"
        exact = Fraction(value)
        total = Decimal(exact.numerator) / Decimal(exact.denominator)
    else:
        total = value
    sign = "-" if total < 0 else ""
    whole = int(abs(total).to_integral_value(ROUND_HALF_EVEN))
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days} d" + (f" {hours} h" if hours else "")
    elif hours:
        text = f"{hours} h" + (f" {minutes:02d} min" if minutes else "")
    elif minutes:
        text = f"{minutes} min" + (f" {secs:02d} s" if secs else "")
    else:
        text = f"{secs} s"
    return sign + text


def decimal(value: Fraction | Decimal | int | str | None, places: int = 2) -> str:
    """A number rounded half-even to ``places`` decimals; ``–`` for None."""
    if value is None:
        return "–"
    if isinstance(value, Fraction):
        number = Decimal(value.numerator) / Decimal(value.denominator)
    else:
        try:
            number = Decimal(value)
        except InvalidOperation:
            return str(value)
    quantum = Decimal(1).scaleb(-places)
    return format(number.quantize(quantum, rounding=ROUND_HALF_EVEN), "f")


def number(value: Fraction | Decimal | int | str | None, places: int = 3) -> str:
    """Like :func:`decimal`, without trailing zeros (``5``, ``12.5``)."""
    text = decimal(value, places)
    return text.rstrip("0").rstrip(".") if "." in text else text


def percent(ratio: Fraction | None, places: int = 2) -> str:
    """A ratio (0.995) as a percentage text (``99.50 %``)."""
    return "–" if ratio is None else f"{decimal(ratio * 100, places)} %"


def rate(value: Fraction | None) -> str:
    """A burn rate (``6.67×``)."""
    return "–" if value is None else f"{decimal(value, 2)}×"


def money(amount: Decimal | str, currency: str) -> str:
    return f"{decimal(amount, 2)} {currency}"


def clock(result: ClockResult | None) -> dict[str, Any] | None:
    """A support or incident clock as the tables show it."""
    if result is None:
        return None
    state = result.state.value
    return {
        "name": result.clock,
        "state": state,
        "label": CLOCK_LABELS.get(state, state),
        "due": instant(result.due_at),
        "stopped": instant(result.stopped_at),
        "elapsed": duration(result.elapsed),
        "target": duration(result.target),
        "at_risk": result.at_risk,
    }
