"""Money: exact amounts in a contract currency, rounded half-up once, at the end.

Credit arithmetic is done on exact ``Fraction`` values (a fee divided by 12 or by the days of a
year has no finite decimal form); :func:`quantize_money` turns the final amount into a
``Decimal`` rounded half-up to the currency's minor unit. :func:`round_half_up` is the same
rounding for any number of decimals, used for display figures such as an uptime percentage.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

DEFAULT_MINOR_UNIT = 2
"""Digits after the decimal point for a currency not listed in :data:`MINOR_UNITS`."""

MINOR_UNITS: Mapping[str, int] = MappingProxyType(
    {
        "JPY": 0,
        "KRW": 0,
        "CLP": 0,
        "ISK": 0,
        "VND": 0,
        "BHD": 3,
        "KWD": 3,
        "OMR": 3,
        "JOD": 3,
        "TND": 3,
    }
)
"""ISO 4217 currencies whose minor unit is not 2 digits."""

_CURRENCY_CODE = re.compile(r"[A-Z]{3}")


def minor_unit(currency: str) -> int:
    """The number of decimals of ``currency`` (an upper-case ISO 4217 code such as ``USD``)."""
    if not _CURRENCY_CODE.fullmatch(currency):
        raise ValueError(f"currency {currency!r} is not an ISO 4217 code such as 'USD'")
    return MINOR_UNITS.get(currency, DEFAULT_MINOR_UNIT)


def exact(value: Decimal | Fraction | int) -> Fraction:
    """``value`` as an exact fraction; a NaN or infinite ``Decimal`` is an error."""
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"{value} is not a finite amount")
    return Fraction(value)


def round_half_up(value: Decimal | Fraction | int, decimals: int) -> Decimal:
    """``value`` rounded to ``decimals`` places, ties away from zero (``ROUND_HALF_UP``).

    The rounding is done with integer arithmetic on the exact value, so it never depends on a
    ``decimal`` context's precision.
    """
    if decimals < 0:
        raise ValueError(f"decimals must be 0 or more, not {decimals}")
    amount = exact(value)
    units = math.floor(abs(amount) * 10**decimals + Fraction(1, 2))
    sign = 1 if amount < 0 and units else 0
    return Decimal((sign, tuple(int(digit) for digit in str(units)), -decimals))


def quantize_money(amount: Decimal | Fraction | int, currency: str) -> Decimal:
    """``amount`` rounded half-up once to the minor unit of ``currency`` (0.125 USD -> 0.13)."""
    return round_half_up(amount, minor_unit(currency))
