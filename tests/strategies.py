"""Hypothesis strategies shared by the business-time and support-clock property tests."""

from __future__ import annotations

from datetime import date, time, timedelta

from hypothesis import strategies as st

from slakeeper.domain.calendars import Calendar, OpenSpan

#: Zones with the DST rules worth testing: none, US, EU, a 30-minute shift, a half-hour offset.
ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata"]


@st.composite
def open_spans(draw: st.DrawFn) -> OpenSpan:
    """An opening on quarter hours, up to 48 h long (so overnight ones too)."""
    start_quarter = draw(st.integers(0, 95))
    length = draw(st.integers(1, 192 - start_quarter))
    return OpenSpan(
        draw(st.integers(0, 6)),
        time(start_quarter // 4, start_quarter % 4 * 15),
        (start_quarter + length) * 15,
    )


@st.composite
def calendars(
    draw: st.DrawFn,
    anchor: date,
    *,
    min_spans: int = 0,
    max_spans: int = 6,
    holiday_days: int = 4,
    always_open_one_in: int = 10,
) -> Calendar:
    """A random weekly schedule in a random zone, with holidays within ``holiday_days`` of
    ``anchor``; 24x7 one time in ``always_open_one_in``."""
    offsets = st.integers(-holiday_days, holiday_days)
    holidays = draw(st.frozensets(offsets.map(lambda n: anchor + timedelta(days=n))))
    return Calendar(
        "generated",
        draw(st.sampled_from(ZONES)),
        tuple(draw(st.lists(open_spans(), min_size=min_spans, max_size=max_spans))),
        always_open=draw(st.integers(0, always_open_one_in - 1)) == 0,
        holiday_dates=holidays,
    )
