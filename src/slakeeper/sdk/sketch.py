"""The latency key function of the wire format: DDSketch's logarithmic mapping at 1 % accuracy.

Computed exactly as ``ddsketch.mapping.LogarithmicMapping(0.01).key`` computes it (same
operations in the same order), so the keys are bit-identical, without depending on the package.
"""

from __future__ import annotations

import math
import sys

RELATIVE_ACCURACY = 0.01
_GAMMA_MANTISSA = 2 * RELATIVE_ACCURACY / (1 - RELATIVE_ACCURACY)
GAMMA = 1 + _GAMMA_MANTISSA
#: ``1 / log2(gamma)``, built as the mapping builds it.
MULTIPLIER = (1 / math.log1p(_GAMMA_MANTISSA)) * math.log(2)
#: Values below this cannot be indexed; they go to the ``zero`` count.
MIN_INDEXABLE = sys.float_info.min * GAMMA
#: Values above this cannot be indexed (the SDK rejects them as invalid).
MAX_INDEXABLE = sys.float_info.max / GAMMA


def key(value: float) -> int | None:
    """The bin key of a latency in milliseconds; ``None`` for the ``zero`` count.

    ``value`` must be a number; NaN and values above :data:`MAX_INDEXABLE` raise ValueError.
    """
    if value < MIN_INDEXABLE:
        return None
    if not value <= MAX_INDEXABLE:  # also catches NaN
        raise ValueError(f"a latency cannot be indexed: {value!r}")
    return math.ceil(math.log(value, 2) * MULTIPLIER)


def value(bin_key: int) -> float:
    """The representative value of a bin (within 1 % of every value mapped to it)."""
    return math.pow(2.0, bin_key / MULTIPLIER) * (2.0 / (1 + GAMMA))
