"""The policy language, piece by piece: value types, YAML reading, errors and lookups."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slakeeper.policy.errors import PolicyError, Problem
from slakeeper.policy.loader import LoadedPolicy, load_policy_file, load_policy_text
from slakeeper.policy.models import Policy, TiersSchedule
from slakeeper.policy.source import load_yaml
from slakeeper.policy.types import (
    format_duration,
    parse_duration,
    parse_time_range,
    parse_weekdays,
)

# A small valid policy; the tests below change one thing in it at a time.
BASE = textwrap.dedent(
    """\
    apiVersion: slakeeper/v1
    kind: Policy
    metadata:
      name: acme
      title: Acme Service Level Agreement
      provider: Acme Inc.
    regions:
      - {id: us-east, name: US East}
    components:
      - {id: api, name: API}
    calendars:
      - {id: 24x7, always_open: true}
    severities:
      - {id: sev-1, name: Critical, description: Service down., aliases: [P0, Sev-1]}
      - {id: sev-2, name: High, description: Service degraded., aliases: [P1]}
    plans:
      - id: pro
        name: Pro
        uptime:
          target: 99.9
          measured_on: [api]
        credits:
          schedule:
            type: tiers
            bands:
              - {uptime_below: 99.9, uptime_at_least: 99.0, percent: 10}
              - {uptime_below: 99.0, percent: 25}
    maintenance:
      min_notice: 48h
    """
)

BANDS = (
    "          - {uptime_below: 99.9, uptime_at_least: 99.0, percent: 10}\n"
    "          - {uptime_below: 99.0, percent: 25}\n"
)


def load(text: str) -> LoadedPolicy:
    return load_policy_text(text, "policy.yaml")


def problems(text: str) -> tuple[Problem, ...]:
    with pytest.raises(PolicyError) as caught:
        load(text)
    assert caught.value.problems
    return caught.value.problems


def only(text: str) -> Problem:
    found = problems(text)
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


def line_of(text: str, fragment: str) -> int:
    """The 1-based line of ``text`` that contains ``fragment`` (exactly one must)."""
    lines = [number for number, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(lines) == 1, f"{fragment!r} is on lines {lines}"
    return lines[0]


def with_bands(*bands: str) -> str:
    text = BASE.replace(BANDS, "".join(f"          - {band}\n" for band in bands))
    assert text != BASE
    return text


def test_the_base_policy_is_valid() -> None:
    policy = load(BASE).policy
    assert policy.metadata.name == "acme"
    assert policy.plan("pro").uptime.measured_on == ["api"]


# --------------------------------------------------------------------------- durations
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4h30m", timedelta(hours=4, minutes=30)),
        ("90s", timedelta(seconds=90)),
        ("500ms", timedelta(milliseconds=500)),
        ("48h", timedelta(hours=48)),
        ("2d", timedelta(days=2)),
        (
            "1w2d3h4m5s6ms",
            timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5, milliseconds=6),
        ),
        ("0s", timedelta(0)),
        (" 15m ", timedelta(minutes=15)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("4 hours", "is not a duration"),
        ("2hrs", "is not a duration"),
        ("1.5h", "is not a duration"),
        ("h", "is not a duration"),
        ("", "is not a duration"),
        ("-5m", "is not a duration"),
        ("1h1h", "repeats a unit or lists them out of order"),
        ("30m1h", "repeats a unit or lists them out of order"),
        ("200000000w", "longer than any duration can be"),
    ],
)
def test_parse_duration_refuses(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_duration(text)


@pytest.mark.parametrize("value", [90, 1.5, True, None])
def test_a_duration_is_text(value: object) -> None:
    with pytest.raises(ValueError, match="a duration is text"):
        parse_duration(value)


@given(st.integers(min_value=0, max_value=10**12).map(lambda ms: timedelta(milliseconds=ms)))
def test_format_duration_round_trips(duration: timedelta) -> None:
    assert parse_duration(format_duration(duration)) == duration


def test_format_duration_is_the_shortest_spelling() -> None:
    assert format_duration(timedelta(hours=4, minutes=30)) == "4h30m"
    assert format_duration(timedelta(0)) == "0s"


def test_a_zero_duration_is_refused_where_it_must_be_positive() -> None:
    text = BASE + textwrap.dedent(
        """\
        slos:
          - id: api-latency
            name: API latency
            sli: {kind: latency, component: api, threshold: 0s}
            objective: 99
            window: {type: calendar, unit: month}
        """
    )
    problem = only(text)
    assert problem.key == "slos[0].sli.threshold"
    assert "longer than zero" in problem.message


# --------------------------------------------------------------------------- time ranges
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00-18:00", (540, 1080)),
        ("22:00-06:00", (1320, 1800)),
        ("00:00-24:00", (0, 1440)),
        ("23:30-00:00", (1410, 1440)),
    ],
)
def test_parse_time_range(text: str, expected: tuple[int, int]) -> None:
    assert parse_time_range(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("25:00-26:00", "'25:00' in '25:00-26:00' is not a time of day"),
        ("09:60-10:00", "is not a time of day"),
        ("09:00-09:00", "is empty"),
        ("24:00-01:00", "starts at 24:00"),
        ("9-17", "is not a time range"),
        ("09:00", "is not a time range"),
        ("09:00-12:00-13:00", "is not a time range"),
    ],
)
def test_parse_time_range_refuses(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_time_range(text)


@given(st.integers(0, 1439), st.integers(0, 1440))
def test_a_time_range_lasts_between_a_minute_and_a_day(start: int, end: int) -> None:
    text = f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
    if end == start:
        with pytest.raises(ValueError, match="is empty"):
            parse_time_range(text)
        return
    first, last = parse_time_range(text)
    assert first == start
    assert 0 < last - first <= 1440


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("mon-fri", (0, 1, 2, 3, 4)),
        ("sat-sun", (5, 6)),
        ("every-day", (0, 1, 2, 3, 4, 5, 6)),
        (["mon", "wed", "Friday"], (0, 2, 4)),
        ("sun", (6,)),
    ],
)
def test_parse_weekdays(value: object, expected: tuple[int, ...]) -> None:
    assert parse_weekdays(value) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("weekdays", "'weekdays' is not a day"),
        (["mon", "mon"], "a day is listed twice"),
        (["mon", "xyz"], "'xyz' is not a day"),
        (5, "days are a list"),
    ],
)
def test_parse_weekdays_refuses(value: object, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_weekdays(value)


def test_an_overnight_schedule_loads() -> None:
    text = BASE.replace(
        "  - {id: 24x7, always_open: true}\n",
        "  - {id: 24x7, always_open: true}\n"
        "  - {id: nights, schedule: [{days: mon-fri, hours: ['22:00-06:00']}]}\n",
    )
    assert load(text).policy.calendar("nights").schedule[0].hours == [(1320, 1800)]


# --------------------------------------------------------------------------- YAML reading
def test_yaml_floats_become_exact_decimals() -> None:
    data, _ = load_yaml("target: 99.9\nother: 99.99\n", "x.yaml")
    assert data == {"target": Decimal("99.9"), "other": Decimal("99.99")}
    assert isinstance(data["target"], Decimal)
    target = load(BASE).policy.plan("pro").uptime.target
    assert target == Decimal("99.9")
    assert isinstance(target, Decimal)
    assert str(target) == "99.9"


def test_a_percent_sign_is_allowed() -> None:
    text = BASE.replace("target: 99.9", "target: 99.95%")
    assert load(text).policy.plan("pro").uptime.target == Decimal("99.95")


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "Yes", "NO", "y"])
def test_yaml_1_1_booleans_stay_text(word: str) -> None:
    data, _ = load_yaml(f"value: {word}\n", "x.yaml")
    assert data == {"value": word}


def test_yaml_1_2_booleans_are_booleans() -> None:
    data, _ = load_yaml("a: true\nb: false\nc: True\n", "x.yaml")
    assert data == {"a": True, "b": False, "c": True}


def test_norway_is_a_country_not_false() -> None:
    text = BASE.replace(
        "  - {id: 24x7, always_open: true}\n",
        "  - {id: 24x7, always_open: true}\n"
        "  - id: oslo\n"
        "    schedule: [{days: mon-fri, hours: ['08:00-16:00']}]\n"
        "    holidays: {countries: [{country: NO}]}\n",
    )
    assert load(text).policy.calendar("oslo").holidays.countries[0].country == "NO"


def test_timestamps_stay_text_for_the_models() -> None:
    data, _ = load_yaml("effective: 2026-01-01T00:00:00Z\nday: 2026-01-01\n", "x.yaml")
    assert data == {"effective": "2026-01-01T00:00:00Z", "day": "2026-01-01"}


def test_the_source_map_knows_lines_and_columns() -> None:
    _, source = load_yaml("a:\n  b: [1, 2]\n", "x.yaml")
    position = source.locate(("a", "b", 1))
    assert position is not None
    assert (position.line, position.column) == (2, 10)


def test_duplicate_keys_are_refused_with_both_lines() -> None:
    text = BASE.replace("  provider: Acme Inc.\n", "  provider: Acme Inc.\n  name: acme-2\n")
    problem = only(text)
    assert problem.key == "metadata.name"
    assert problem.line == line_of(text, "name: acme-2")
    first = line_of(BASE, "  name: acme")
    assert f"duplicate key 'name' (first given on line {first})" in problem.message


def test_merge_keys_are_refused() -> None:
    text = BASE + "review: &r {cadence: yearly}\nscope:\n  <<: *r\n"
    problem = only(text)
    assert "merge keys" in problem.message
    assert problem.line == line_of(text, "<<: *r")


def test_invalid_yaml_is_one_positioned_problem() -> None:
    text = BASE.replace("measured_on: [api]", "measured_on: [api\n      decimals: 3")
    problem = only(text)
    assert problem.message.startswith("this is not valid YAML")
    assert problem.line == line_of(text, "decimals: 3")
    assert problem.key == ""


def test_an_empty_file_is_one_problem() -> None:
    problem = only("# nothing here yet\n")
    assert (problem.line, problem.message) == (1, "the file is empty")


def test_a_list_at_the_top_is_refused() -> None:
    assert "must be a mapping" in only("- apiVersion: slakeeper/v1\n").message


def test_a_non_utf8_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(BASE.replace("Acme Inc.", "Acmé Inc.").encode("latin-1"))
    with pytest.raises(PolicyError) as caught:
        load_policy_file(path)
    (problem,) = caught.value.problems
    assert "UTF-8" in problem.message
    assert str(problem).startswith(str(path))


def test_a_non_utf8_file_names_the_line_of_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(BASE.replace("Acme Inc.", "Acmé Inc.").encode("latin-1"))
    with pytest.raises(PolicyError) as caught:
        load_policy_file(path)
    assert caught.value.problems[0].line == line_of(BASE, "Acme Inc.")


def test_a_missing_file_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(PolicyError) as caught:
        load_policy_file(path)
    (problem,) = caught.value.problems
    assert "cannot read" in problem.message
    assert str(problem).startswith(str(path))


# --------------------------------------------------------------------------- timestamps
def test_a_naive_effective_timestamp_is_refused() -> None:
    text = BASE.replace(
        "  provider: Acme Inc.\n", "  provider: Acme Inc.\n  effective: 2026-01-01T00:00:00\n"
    )
    problem = only(text)
    assert problem.key == "metadata.effective"
    assert problem.line == line_of(text, "effective:")
    assert "offset" in problem.message


@pytest.mark.parametrize("stamp", ["2026-01-01T00:00:00Z", "2026-01-01T09:00:00+09:00"])
def test_an_aware_effective_timestamp_loads(stamp: str) -> None:
    text = BASE.replace("  provider: Acme Inc.\n", f"  provider: Acme Inc.\n  effective: {stamp}\n")
    effective = load(text).policy.effective_datetime()
    assert effective == datetime(2026, 1, 1, tzinfo=UTC)


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("old", "new", "key", "hint"),
    [
        ("measured_on: [api]", "measurd_on: [api]", "plans[0].uptime.measurd_on", "measured_on"),
        ("    credits:\n", "    credit:\n", "plans[0].credit", "credits"),
        ("apiVersion:", "apiversion:", "apiversion", "apiVersion"),
        ("  min_notice: 48h", "  min_notise: 48h", "maintenance.min_notise", "min_notice"),
        ("percent: 25}", "precent: 25}", "plans[0].credits.schedule.bands[1].precent", "percent"),
    ],
)
def test_unknown_keys_say_did_you_mean(old: str, new: str, key: str, hint: str) -> None:
    text = BASE.replace(old, new)
    assert text != BASE
    found = [problem for problem in problems(text) if problem.key == key]
    assert len(found) == 1, "\n".join(map(str, problems(text)))
    problem = found[0]
    assert f"unknown key '{key.rsplit('.', 1)[-1]}'; did you mean '{hint}'?" in problem.message
    assert "valid here:" in problem.message
    assert problem.line == line_of(text, new.strip().split(":")[0].lstrip("{ -") + ":")


def test_an_unknown_key_far_from_anything_has_no_hint() -> None:
    text = BASE.replace("  min_notice: 48h", "  min_notice: 48h\n  zzz: 1")
    problem = only(text)
    assert "did you mean" not in problem.message
    assert "unknown key 'zzz'" in problem.message


def test_a_misspelled_required_key_is_one_problem() -> None:
    text = BASE.replace("  title:", "  titel:")
    problem = only(text)
    assert "did you mean 'title'" in problem.message


def test_every_error_is_reported_at_once() -> None:
    text = (
        BASE.replace("kind: Policy", "kind: SLA")
        .replace("min_notice: 48h", "min_notice: 48 hours")
        .replace("target: 99.9", "target: 99.9\n      region_rule: any")
    )
    found = problems(text)
    assert [problem.key for problem in found] == [
        "kind",
        "plans[0].uptime.region_rule",
        "maintenance.min_notice",
    ]
    assert [problem.line for problem in found] == [
        line_of(text, "kind:"),
        line_of(text, "region_rule:"),
        line_of(text, "min_notice:"),
    ]


def test_every_reference_error_is_reported_at_once() -> None:
    text = BASE.replace("measured_on: [api]", "measured_on: [apii]")
    text = text.replace(
        "  min_notice: 48h\n", "  min_notice: 48h\n  preferred_windows: [nightly]\n"
    )
    text += "post_incident_reports: {severities: [sev-3], due_business_days: 5, calendar: 24x7}\n"
    found = problems(text)
    assert [problem.key for problem in found] == [
        "plans[0].uptime.measured_on[0]",
        "maintenance.preferred_windows[0]",
        "post_incident_reports.severities[0]",
    ]
    assert "did you mean 'api'" in found[0].message


def test_a_problem_prints_as_file_line_column_key_message() -> None:
    problem = Problem("p.yaml", 3, 7, "kind", "wrong")
    assert str(problem) == "p.yaml:3:7: kind: wrong"
    assert str(Problem("p.yaml", None, None, "", "not UTF-8 text")) == "p.yaml: not UTF-8 text"
    assert problem.as_dict() == {
        "file": "p.yaml",
        "line": 3,
        "column": 7,
        "key": "kind",
        "message": "wrong",
    }


def test_a_policy_error_lists_every_problem_in_its_text() -> None:
    error = PolicyError([Problem("p.yaml", 1, 1, "a", "one"), Problem("p.yaml", 2, 1, "b", "two")])
    assert str(error) == "p.yaml:1:1: a: one\np.yaml:2:1: b: two"


@pytest.mark.parametrize(
    ("old", "new", "key", "fragment"),
    [
        ("target: 99.9", "target: 100.5", "plans[0].uptime.target", "less than or equal to 100"),
        ("target: 99.9", "target: -1", "plans[0].uptime.target", "greater than or equal to 0"),
        ("percent: 25}", "percent: 125}", "plans[0].credits.schedule.bands[1].percent", "100"),
        ("name: acme", "name: Acme Corp", "metadata.name", "is not a valid id"),
        ("  min_notice: 48h", "  min_notice: 2 days", "maintenance.min_notice", "not a duration"),
    ],
)
def test_bad_values_are_placed_on_their_key(old: str, new: str, key: str, fragment: str) -> None:
    text = BASE.replace(old, new)
    assert text != BASE
    problem = only(text)
    assert problem.key == key
    assert fragment in problem.message
    assert problem.line == line_of(text, new.strip())


# --------------------------------------------------------------------------- credit bands
def test_overlapping_bands_are_refused() -> None:
    text = with_bands(
        "{uptime_below: 99.9, uptime_at_least: 99.0, percent: 10}",
        "{uptime_below: 99.5, percent: 25}",
    )
    problem = only(text)
    assert problem.key == "plans[0].credits.schedule.bands"
    assert "overlap" in problem.message


def test_a_gap_between_bands_is_refused() -> None:
    text = with_bands(
        "{uptime_below: 99.9, uptime_at_least: 99.5, percent: 10}",
        "{uptime_below: 99.0, percent: 25}",
    )
    problem = only(text)
    assert problem.key == "plans[0].credits.schedule.bands"
    assert "no band covers uptime" in problem.message
    assert "99.5" in problem.message


def test_two_exclusive_bounds_leave_a_one_point_gap() -> None:
    text = with_bands(
        "{uptime_below: 99.9, uptime_above: 99.0, percent: 10}",
        "{uptime_below: 99.0, percent: 25}",
    )
    assert "no band covers uptime of exactly 99 %" in only(text).message


def test_inclusive_and_exclusive_bounds_meet_without_a_gap() -> None:
    text = with_bands(
        "{uptime_below: 99.9, uptime_above: 99.0, percent: 10}",
        "{uptime_at_or_below: 99.0, percent: 25}",
    )
    credits = load(text).policy.plan("pro").credits
    assert credits is not None
    assert isinstance(credits.schedule, TiersSchedule)
    assert len(credits.schedule.bands) == 2


@pytest.mark.parametrize(
    ("band", "fragment"),
    [
        ("{percent: 25}", "a band needs a bound"),
        ("{uptime_below: 99.0, uptime_at_or_below: 99.0, percent: 25}", "one upper bound"),
        ("{uptime_below: 99.0, uptime_at_least: 98, uptime_above: 98, percent: 25}", "lower bound"),
        ("{uptime_below: 98.0, uptime_at_least: 99.0, percent: 25}", "is above its upper"),
    ],
)
def test_a_malformed_band_is_refused(band: str, fragment: str) -> None:
    text = with_bands("{uptime_below: 99.9, uptime_at_least: 99.0, percent: 10}", band)
    problem = only(text)
    assert problem.key == "plans[0].credits.schedule.bands[1]"
    assert fragment in problem.message


def test_a_band_above_the_cap_is_refused() -> None:
    text = BASE.replace(BANDS, BANDS + "      cap_percent: 20\n")
    problem = only(text)
    assert problem.key == "plans[0].credits.schedule.bands[1].percent"
    assert "above the plan's cap of 20 %" in problem.message


# --------------------------------------------------------------------------- lookups
@pytest.mark.parametrize("name", ["sev-1", "Sev-1", "SEV-1", "Critical", "critical", "P0", " p0 "])
def test_severity_lookup_by_id_name_or_alias(name: str) -> None:
    assert load(BASE).policy.severity(name).id == "sev-1"


def test_an_unknown_severity_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        load(BASE).policy.severity("Sev-9")


def test_lookups_by_id() -> None:
    policy = load(BASE).policy
    assert policy.plan("pro").name == "Pro"
    assert policy.component("api").name == "API"
    assert policy.calendar("24x7").always_open
    for lookup in (policy.plan, policy.component, policy.calendar):
        with pytest.raises(KeyError):
            lookup("nope")


def test_a_support_target_may_name_a_severity_by_a_lowercase_alias() -> None:
    text = BASE + "support:\n  targets:\n    - {severity: p0, response: 1h, calendar: 24x7}\n"
    assert load(text).policy.support.targets[0].severity == "p0"


def test_a_support_target_may_name_a_severity_by_its_alias_as_written() -> None:
    text = BASE + "support:\n  targets:\n    - {severity: Sev-1, response: 1h, calendar: 24x7}\n"
    assert load(text).policy.support.targets[0].severity == "Sev-1"


# --------------------------------------------------------------------------- JSON schema
def test_the_json_schema_uses_the_aliases() -> None:
    schema = Policy.model_json_schema(by_alias=True)
    assert "apiVersion" in schema["properties"]
    assert "api_version" not in schema["properties"]
    assert "apiVersion" in schema["required"]
    text = json.dumps(schema)
    assert "slakeeper/v1" in text
    assert '"additionalProperties": false' in text
