"""A mergeable latency sketch with a proven relative-error bound (DDSketch, DOMAIN.md section 7).

Values are bucketed by the logarithmic key mapping of the ``ddsketch`` package at 1 % relative
accuracy: every value in bucket ``k`` lies within 1 % of the bucket's representative value, so a
quantile read from the sketch is within 1 % of a true sample quantile. The sketch is kept as
sparse ``{key: count}`` maps, so merging minute buckets into any window is adding counts: exact,
associative and order-free. Percentiles of a window are always read from the merged sketch,
never averaged from per-minute percentiles.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ddsketch.mapping import LogarithmicMapping

RELATIVE_ACCURACY = 0.01
MAPPING = LogarithmicMapping(RELATIVE_ACCURACY)
#: Values below this go to the zero bucket (the mapping cannot index them).
MIN_INDEXABLE = MAPPING.min_possible
#: Keys outside this range cannot come from a finite latency in milliseconds.
MAX_KEY = MAPPING.key(MAPPING.max_possible)


def key_of(value: float) -> int | None:
    """The bucket key of a positive ``value``; ``None`` for the zero bucket."""
    if value < MIN_INDEXABLE:
        return None
    return MAPPING.key(value)


def value_of(key: int) -> float:
    """The representative value of bucket ``key`` (within 1 % of every value in it)."""
    return float(MAPPING.value(key))


@dataclass
class LatencySketch:
    """Counts of latencies by bucket key, plus the zero bucket."""

    bins: dict[int, int] = field(default_factory=dict)
    zero: int = 0

    @property
    def count(self) -> int:
        return self.zero + sum(self.bins.values())

    def add(self, value: float, count: int = 1) -> None:
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"a latency must be a finite number >= 0, not {value!r}")
        key = key_of(value)
        if key is None:
            self.zero += count
        else:
            self.bins[key] = self.bins.get(key, 0) + count

    def merge(self, other: LatencySketch) -> None:
        self.zero += other.zero
        bins = self.bins
        for key, count in other.bins.items():
            bins[key] = bins.get(key, 0) + count

    def quantile(self, q: float) -> float | None:
        """The ``q``-quantile (0 <= q <= 1) as DDSketch reads it; ``None`` when empty.

        The rank is ``q * (count - 1)`` and the answer is the representative value of the bucket
        holding that rank, exactly as ``ddsketch.DDSketch.get_quantile_value`` does.
        """
        if not 0 <= q <= 1:
            raise ValueError(f"a quantile is between 0 and 1, not {q}")
        total = self.count
        if total == 0:
            return None
        rank = q * (total - 1)
        seen = self.zero
        if seen > rank:
            return 0.0
        for key in sorted(self.bins):
            seen += self.bins[key]
            if seen > rank:
                return value_of(key)
        return value_of(max(self.bins))  # pragma: no cover - rank < total always lands above

    def count_below(self, threshold: float) -> int:
        """How many values are below ``threshold``, judged by bucket: a bucket counts when its
        representative value is below the threshold (so the answer is exact for every value
        more than 1 % away from the threshold)."""
        if threshold <= 0:
            return 0
        return self.zero + sum(c for k, c in self.bins.items() if value_of(k) < threshold)

    def to_json(self) -> dict[str, object]:
        return {"bins": {str(k): self.bins[k] for k in sorted(self.bins)}, "zero": self.zero}

    @classmethod
    def from_json(cls, document: Mapping[str, object]) -> LatencySketch:
        """Read a sketch from its JSON form; raises ValueError on anything malformed."""
        if not isinstance(document, Mapping):
            raise ValueError("a latency sketch is an object with `bins` and `zero`")
        unknown = set(document) - {"bins", "zero"}
        if unknown:
            raise ValueError(f"unknown latency field(s): {', '.join(sorted(unknown))}")
        zero = document.get("zero", 0)
        if type(zero) is not int or zero < 0:
            raise ValueError("latency `zero` must be a whole number >= 0")
        raw = document.get("bins", {})
        if not isinstance(raw, Mapping):
            raise ValueError("latency `bins` must map bucket keys to counts")
        bins: dict[int, int] = {}
        for key, count in raw.items():
            try:
                index = int(key)
            except (TypeError, ValueError):
                raise ValueError(f"latency bucket key {key!r} is not a whole number") from None
            if abs(index) > MAX_KEY:
                raise ValueError(f"latency bucket key {index} is out of range")
            if type(count) is not int or count <= 0:
                raise ValueError(f"latency bucket {index}: the count must be a whole number > 0")
            bins[index] = bins.get(index, 0) + count
        return cls(bins, zero)


def merged(sketches: Iterable[LatencySketch]) -> LatencySketch:
    total = LatencySketch()
    for sketch in sketches:
        total.merge(sketch)
    return total
