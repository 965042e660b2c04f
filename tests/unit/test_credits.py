from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import scaled
from slakeeper.domain.claims import ClaimAfter, ClaimWindow, claim_deadline
from slakeeper.domain.credits import (
    Band,
    CreditResult,
    CreditTerms,
    DataLossSchedule,
    FeeBasis,
    FeeProration,
    NoCredit,
    PartialHourRounding,
    TieredSchedule,
    TimePerExcessSchedule,
    check_bands,
    compute_credit,
)
from slakeeper.domain.intervals import IntervalSet
from slakeeper.domain.money import quantize_money, round_half_up
from slakeeper.domain.periods import Period, month_period
from slakeeper.domain.uptime import Accounting, UptimeResult, compute_uptime

SEPTEMBER = month_period(2026, 9, "UTC")  # 30 days
OCTOBER = month_period(2026, 10, "UTC")  # 31 days


def pct(value: str) -> Fraction:
    """A percentage written as in an SLA, as an uptime ratio: pct("99.9") == 999/1000."""
    return Fraction(value) / 100


# Seed 003: "< 99.99 % -> 10 %, < 99.9 % -> 25 %, < 99.0 % -> 50 %" as disjoint bands.
SEED_003_BANDS = (
    Band(Decimal(10), pct("99.9"), True, pct("99.99"), False),
    Band(Decimal(25), pct("99.0"), True, pct("99.9"), False),
    Band(Decimal(50), None, False, pct("99.0"), False),
)
TIERS = CreditTerms(TieredSchedule(SEED_003_BANDS))
MONTHLY_1000 = FeeBasis(monthly_fee=Decimal(1000))


def uptime_of(
    period: Period, down: timedelta, target: Fraction | None = pct("99.99")
) -> UptimeResult:
    measured = IntervalSet((period.interval,))
    downtime = IntervalSet.of((period.start, period.start + down))
    return compute_uptime(
        measured, downtime, IntervalSet(), accounting=Accounting.COUNT_AS_UP, target=target
    )


def credit(
    terms: CreditTerms,
    uptime: UptimeResult,
    *,
    period: Period = SEPTEMBER,
    fee: FeeBasis = MONTHLY_1000,
    currency: str = "USD",
    data_loss_events: int = 0,
) -> CreditResult:
    return compute_credit(
        terms,
        uptime=uptime,
        period=period,
        fee=fee,
        currency=currency,
        data_loss_events=data_loss_events,
    )


# -- tiers -----------------------------------------------------------------------------------
def test_sixty_down_minutes_in_30_days_fall_in_the_below_99_9_band() -> None:
    # 99.861111 % is below 99.9 %, so the "< 99.9 % -> 25 %" tier applies, not the 10 % one.
    result = credit(TIERS, uptime_of(SEPTEMBER, timedelta(minutes=60)))
    assert result.percent == Decimal(25)
    assert result.amount == Decimal("250.00")
    assert result.reason == "uptime 99.861111 % is in band ≥ 99 % and < 99.9 % → 25 %"


def test_thirty_down_minutes_in_30_days_fall_in_the_below_99_99_band() -> None:
    result = credit(TIERS, uptime_of(SEPTEMBER, timedelta(minutes=30)))
    assert result.percent == Decimal(10)
    assert result.amount == Decimal("100.00")
    assert result.reason == "uptime 99.930556 % is in band ≥ 99.9 % and < 99.99 % → 10 %"


def test_exactly_99_percent_is_not_below_99_percent() -> None:
    uptime = uptime_of(SEPTEMBER, timedelta(minutes=432))
    assert uptime.uptime == pct("99.0")
    result = credit(TIERS, uptime)
    assert result.percent == Decimal(25)


def test_one_more_second_of_downtime_reaches_the_below_99_percent_band() -> None:
    result = credit(TIERS, uptime_of(SEPTEMBER, timedelta(minutes=432, seconds=1)))
    assert result.percent == Decimal(50)


def test_cumulative_tiers_written_as_upper_bounds_pay_the_lowest_band() -> None:
    cumulative = TieredSchedule(
        (
            Band(Decimal(10), None, False, pct("99.99"), False),
            Band(Decimal(25), None, False, pct("99.9"), False),
            Band(Decimal(50), None, False, pct("99.0"), False),
        )
    )
    result = credit(CreditTerms(cumulative), uptime_of(SEPTEMBER, timedelta(minutes=60)))
    assert result.percent == Decimal(25)
    assert result.reason == "uptime 99.861111 % is in band < 99.9 % → 25 %"


def test_a_met_target_owes_no_credit() -> None:
    result = credit(TIERS, uptime_of(SEPTEMBER, timedelta(minutes=1)))
    assert result.amount == Decimal("0.00")
    assert result.reason == "uptime 99.997685 % meets the 99.99 % target: no credit"


def test_uptime_in_no_band_owes_no_credit() -> None:
    only_low = CreditTerms(TieredSchedule((SEED_003_BANDS[2],)))
    result = credit(only_low, uptime_of(SEPTEMBER, timedelta(minutes=60)))
    assert result.amount == Decimal("0.00")
    assert "no credit band" in result.reason


def test_a_best_effort_plan_owes_no_credit() -> None:
    result = credit(CreditTerms(NoCredit()), uptime_of(SEPTEMBER, timedelta(hours=20)))
    assert result.amount == Decimal("0.00")
    assert result.reason == "best effort plan: no credit"
    assert not result.issued


def test_the_percent_is_capped_at_50() -> None:
    bands = (Band(Decimal(100), None, False, pct("95"), False), *SEED_003_BANDS[:2])
    terms = CreditTerms(TieredSchedule(bands), cap_percent=Decimal(50))
    result = credit(terms, uptime_of(SEPTEMBER, timedelta(days=3)))
    assert result.capped
    assert result.percent == Decimal(50)
    assert result.amount == Decimal("500.00")
    assert result.reason.endswith("capped at 50 % of the fee")


def test_band_edges_follow_their_inclusive_flags() -> None:
    band = Band(Decimal(25), pct("99.0"), True, pct("99.9"), False)
    assert band.contains(pct("99.0"))
    assert not band.contains(pct("99.9"))
    assert band.contains(pct("99.9") - Fraction(1, 10**12))


def test_a_band_containing_no_uptime_is_refused() -> None:
    with pytest.raises(ValueError, match="contains no uptime"):
        Band(Decimal(10), pct("99.9"), True, pct("99.9"), False)


def test_disjoint_tiers_have_no_band_problems() -> None:
    assert check_bands(SEED_003_BANDS) == []


def test_overlapping_bands_are_reported() -> None:
    problems = check_bands(
        (
            Band(Decimal(10), None, False, pct("99.99"), False),
            Band(Decimal(25), None, False, pct("99.9"), False),
        )
    )
    assert problems == ["bands < 99.99 % (10 %) and < 99.9 % (25 %) overlap"]


def test_gaps_between_bands_are_reported() -> None:
    problems = check_bands(
        (
            Band(Decimal(10), pct("99.9"), False, pct("99.99"), False),
            Band(Decimal(25), pct("99.0"), True, pct("99.9"), False),
            Band(Decimal(50), None, False, pct("98"), False),
        )
    )
    assert problems == [
        "no band covers uptime ≥ 98 % and < 99 %",
        "no band covers uptime of exactly 99.9 %",
    ]


# -- time per excess downtime (seed 002) -----------------------------------------------------
def time_terms(
    rounding: PartialHourRounding, cap_days: Fraction | None = Fraction(30)
) -> CreditTerms:
    return CreditTerms(TimePerExcessSchedule(Fraction(1), rounding, cap_days))


def test_three_hours_of_excess_rounded_down_give_three_days() -> None:
    uptime = uptime_of(SEPTEMBER, timedelta(hours=3, minutes=43, seconds=12), pct("99.9"))
    result = credit(time_terms(PartialHourRounding.DOWN), uptime, fee=FeeBasis(Decimal(300)))
    assert result.days == 3
    assert result.percent == Decimal(10)
    assert result.amount == Decimal("30.00")
    assert result.reason == "3 h excess downtime × 1 day/h = 3 days"


def test_one_second_over_three_hours_of_excess_rounded_up_gives_four_days() -> None:
    uptime = uptime_of(SEPTEMBER, timedelta(hours=3, minutes=43, seconds=13), pct("99.9"))
    result = credit(time_terms(PartialHourRounding.UP), uptime, fee=FeeBasis(Decimal(300)))
    assert result.days == 4
    assert result.amount == Decimal("40.00")
    assert result.reason == ("3.000278 h excess downtime, rounded up to 4 h, × 1 day/h = 4 days")


def test_exact_rounding_credits_partial_hours() -> None:
    uptime = uptime_of(SEPTEMBER, timedelta(hours=1, minutes=13, seconds=12), pct("99.9"))
    result = credit(time_terms(PartialHourRounding.EXACT), uptime, fee=FeeBasis(Decimal(300)))
    assert result.days == Fraction(1, 2)
    assert result.amount == Decimal("5.00")


def test_credit_days_are_worth_their_share_of_a_31_day_month() -> None:
    uptime = uptime_of(OCTOBER, timedelta(hours=3), pct("99.9"))  # 2.256 h excess
    result = credit(time_terms(PartialHourRounding.UP), uptime, period=OCTOBER)
    assert result.days == 3
    assert result.percent_exact == Fraction(300, 31)
    assert result.percent == Decimal("9.677419")
    assert result.amount == Decimal("96.77")


def test_credit_days_are_capped_at_30() -> None:
    uptime = uptime_of(SEPTEMBER, timedelta(days=2), pct("99.9"))
    result = credit(time_terms(PartialHourRounding.DOWN), uptime)
    assert result.days == 30
    assert result.capped
    assert result.amount == Decimal("1000.00")
    assert result.reason.endswith("= 47 days, capped at 30 days")


def test_a_time_credit_above_the_percent_cap_is_capped_in_days_too() -> None:
    terms = CreditTerms(
        TimePerExcessSchedule(Fraction(1), PartialHourRounding.DOWN, None),
        cap_percent=Decimal(50),
    )
    uptime = uptime_of(SEPTEMBER, timedelta(hours=20), pct("99.9"))
    result = credit(terms, uptime)
    assert result.percent == Decimal(50)
    assert result.days == 15
    assert result.amount == Decimal("500.00")


def test_a_time_credit_without_a_target_is_refused() -> None:
    with pytest.raises(ValueError, match="target"):
        credit(time_terms(PartialHourRounding.UP), uptime_of(SEPTEMBER, timedelta(hours=5), None))


# -- minimum, data loss, fees ----------------------------------------------------------------
def test_a_credit_under_the_minimum_is_not_issued() -> None:
    terms = CreditTerms(TieredSchedule(SEED_003_BANDS), minimum_amount=Decimal("1.00"))
    result = credit(terms, uptime_of(SEPTEMBER, timedelta(minutes=30)), fee=FeeBasis(Decimal(8)))
    assert result.amount == Decimal("0.00")
    assert result.percent == Decimal(10)
    assert result.reason.endswith("0.80 USD is below the 1.00 USD minimum: no credit issued")
    assert not result.issued


def test_a_credit_at_the_minimum_is_issued() -> None:
    terms = CreditTerms(TieredSchedule(SEED_003_BANDS), minimum_amount=Decimal("1.00"))
    result = credit(terms, uptime_of(SEPTEMBER, timedelta(minutes=30)), fee=FeeBasis(Decimal(10)))
    assert result.amount == Decimal("1.00")


def test_data_loss_gives_the_whole_fee_and_a_termination_right() -> None:
    terms = CreditTerms(TieredSchedule(SEED_003_BANDS), data_loss=DataLossSchedule())
    result = credit(terms, uptime_of(SEPTEMBER, timedelta(minutes=60)), data_loss_events=1)
    assert result.percent == Decimal(100)
    assert result.amount == Decimal("1000.00")
    assert result.termination_right
    assert result.reason == (
        "uptime 99.861111 % is in band ≥ 99 % and < 99.9 % → 25 %; "
        "confirmed loss of acknowledged data (1 event) → 100 %; the larger credit applies"
    )


def test_data_loss_is_owed_even_when_uptime_met_its_target() -> None:
    terms = CreditTerms(TieredSchedule(SEED_003_BANDS), data_loss=DataLossSchedule())
    result = credit(terms, uptime_of(SEPTEMBER, timedelta(0)), data_loss_events=2)
    assert result.amount == Decimal("1000.00")
    assert result.termination_right


def test_a_larger_uptime_credit_wins_over_a_smaller_data_loss_credit() -> None:
    terms = CreditTerms(
        TieredSchedule(SEED_003_BANDS), data_loss=DataLossSchedule(Decimal(20), True)
    )
    result = credit(terms, uptime_of(SEPTEMBER, timedelta(minutes=60)), data_loss_events=1)
    assert result.percent == Decimal(25)
    assert result.termination_right


def test_no_data_loss_means_no_termination_right() -> None:
    terms = CreditTerms(TieredSchedule(SEED_003_BANDS), data_loss=DataLossSchedule())
    result = credit(terms, uptime_of(SEPTEMBER, timedelta(minutes=60)))
    assert not result.termination_right
    assert result.percent == Decimal(25)


def test_an_annual_fee_divided_by_twelve_is_the_period_fee() -> None:
    terms = CreditTerms(TieredSchedule(SEED_003_BANDS), proration=FeeProration.ANNUAL_TWELFTH)
    fee = FeeBasis(annual_fee=Decimal(1000))
    result = credit(terms, uptime_of(SEPTEMBER, timedelta(minutes=30)), fee=fee)
    assert result.period_fee == Fraction(1000, 12)
    assert result.amount == Decimal("8.33")


def test_an_annual_fee_prorated_by_days_uses_the_days_of_the_year() -> None:
    terms = CreditTerms(TieredSchedule(SEED_003_BANDS), proration=FeeProration.ANNUAL_BY_DAYS)
    fee = FeeBasis(annual_fee=Decimal(36500))
    result = credit(terms, uptime_of(OCTOBER, timedelta(minutes=30)), period=OCTOBER, fee=fee)
    assert result.period_fee == 3100
    assert result.amount == Decimal("310.00")
    leap_february = month_period(2028, 2, "UTC")
    assert fee.period_fee(leap_february, FeeProration.ANNUAL_BY_DAYS) == Fraction(36500 * 29, 366)


def test_the_year_of_a_period_is_taken_in_its_own_time_zone() -> None:
    tokyo_january = month_period(2029, 1, "Asia/Tokyo")  # starts 2028-12-31T15:00Z
    fee = FeeBasis(annual_fee=Decimal(36500))
    assert fee.period_fee(tokyo_january, FeeProration.ANNUAL_BY_DAYS) == 3100


def test_a_proration_without_its_fee_is_refused() -> None:
    with pytest.raises(ValueError, match="annual fee"):
        MONTHLY_1000.period_fee(SEPTEMBER, FeeProration.ANNUAL_TWELFTH)


# -- money -----------------------------------------------------------------------------------
def test_money_rounds_half_up_once_to_the_minor_unit() -> None:
    assert quantize_money(Decimal("0.125"), "USD") == Decimal("0.13")
    assert quantize_money(Decimal("0.124999"), "USD") == Decimal("0.12")
    assert quantize_money(Decimal("-0.125"), "EUR") == Decimal("-0.13")
    assert quantize_money(Fraction(1, 3), "USD") == Decimal("0.33")
    assert quantize_money(Fraction(5, 8), "USD") == Decimal("0.63")


def test_currencies_without_cents_round_to_whole_units() -> None:
    assert quantize_money(Decimal("2.5"), "JPY") == Decimal(3)
    assert str(quantize_money(Decimal("1234.4"), "KRW")) == "1234"


def test_three_decimal_currencies_round_to_thousandths() -> None:
    assert str(quantize_money(Decimal("0.0005"), "KWD")) == "0.001"
    assert str(quantize_money(Decimal(1), "BHD")) == "1.000"


def test_a_currency_that_is_not_an_iso_code_is_refused() -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        quantize_money(Decimal(1), "usd")


@settings(max_examples=scaled(200), deadline=None)
@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=6, min_value=-(10**9), max_value=10**9
    ),
    st.integers(0, 4),
)
def test_half_up_rounding_matches_decimal_round_half_up(value: Decimal, decimals: int) -> None:
    context = Context(prec=60, rounding=ROUND_HALF_UP)
    expected = value.quantize(Decimal(1).scaleb(-decimals), context=context)
    assert round_half_up(value, decimals) == expected


# -- claims ----------------------------------------------------------------------------------
def test_a_claim_is_due_30_days_after_the_period_ends() -> None:
    deadline = claim_deadline(
        ClaimWindow(30, ClaimAfter.PERIOD_END), period=OCTOBER, incident_ends=[]
    )
    assert deadline == datetime(2026, 12, 1, tzinfo=UTC)


def test_a_claim_window_counts_calendar_days_in_the_contract_time_zone() -> None:
    new_york_october = month_period(2026, 10, "America/New_York")  # ends 2026-11-01T04:00Z
    deadline = claim_deadline(
        ClaimWindow(30, ClaimAfter.PERIOD_END), period=new_york_october, incident_ends=[]
    )
    assert deadline == datetime(2026, 12, 1, 5, tzinfo=UTC)  # local midnight, after fall-back


def test_a_claim_is_due_30_days_after_the_latest_incident() -> None:
    ends = [datetime(2026, 10, 20, 11, tzinfo=UTC), datetime(2026, 10, 5, 9, tzinfo=UTC)]
    deadline = claim_deadline(
        ClaimWindow(30, ClaimAfter.INCIDENT), period=OCTOBER, incident_ends=ends
    )
    assert deadline == datetime(2026, 11, 19, 11, tzinfo=UTC)


def test_without_an_incident_there_is_no_incident_claim_deadline() -> None:
    window = ClaimWindow(30, ClaimAfter.INCIDENT)
    assert claim_deadline(window, period=OCTOBER, incident_ends=[]) is None


def test_the_incident_claim_deadline_follows_the_counted_downtime() -> None:
    uptime = uptime_of(OCTOBER, timedelta(hours=2), pct("99.9"))
    ends = [interval.end for interval in uptime.counted_intervals]
    deadline = claim_deadline(
        ClaimWindow(30, ClaimAfter.INCIDENT), period=OCTOBER, incident_ends=ends
    )
    assert deadline == datetime(2026, 10, 31, 2, tzinfo=UTC)
