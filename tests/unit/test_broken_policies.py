"""Fifty broken policy files, each with one realistic mistake, and the error a person needs.

Every file in ``tests/fixtures/broken-policies`` starts with a comment::

    # expect: <line> <key path> <fragment of the message>

``<line>`` is the 1-based line the error must point at, ``<key path>`` the key as printed
(``-`` when the problem is about the whole file) and ``<fragment>`` a case-insensitive part of
the message. A fixture whose current error falls short of that is listed in ``KNOWN_GAPS``
(a strict xfail): the expectation says what the error should be, the reason what it is today.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from slakeeper.policy.errors import PolicyError, Problem
from slakeeper.policy.loader import load_policy_file

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "fixtures" / "broken-policies"
EXAMPLES = ROOT / "examples" / "policies"
BROKEN_FILES = sorted(BROKEN.glob("*.yaml"))
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))

KNOWN_GAPS: dict[str, str] = {}


@dataclass(frozen=True)
class Expectation:
    line: int
    key: str
    fragment: str


def expectation(path: Path) -> Expectation:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name}: the first line must be '# expect: ...'"
    line, key, fragment = first.removeprefix("# expect: ").split(maxsplit=2)
    return Expectation(int(line), "" if key == "-" else key, fragment.strip())


def matches(problem: Problem, expected: Expectation) -> bool:
    return (
        problem.line == expected.line
        and problem.key == expected.key
        and expected.fragment.lower() in problem.message.lower()
    )


def broken_cases() -> list[object]:
    cases: list[object] = []
    for path in BROKEN_FILES:
        marks = []
        if path.name in KNOWN_GAPS:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[path.name]))
        cases.append(pytest.param(path, id=path.stem, marks=marks))
    return cases


def test_there_are_fifty_numbered_fixtures() -> None:
    numbers = [path.name[:2] for path in BROKEN_FILES]
    assert numbers == [f"{number:02d}" for number in range(1, 51)]
    assert set(KNOWN_GAPS) <= {path.name for path in BROKEN_FILES}


@pytest.mark.parametrize("path", broken_cases())
def test_broken_policy_reports_the_mistake(path: Path) -> None:
    expected = expectation(path)
    with pytest.raises(PolicyError) as caught:
        load_policy_file(path)
    problems = caught.value.problems
    assert problems, "a PolicyError must carry at least one problem"
    for problem in problems:
        assert str(problem).startswith(str(path)), str(problem)
    listed = "\n".join(str(problem) for problem in problems)
    assert any(matches(problem, expected) for problem in problems), (
        f"expected line {expected.line}, key {expected.key!r}, message containing "
        f"{expected.fragment!r}; got:\n{listed}"
    )


def slakeeper_command() -> list[str]:
    """``python -m slakeeper.cli``, or the console script next to the interpreter."""
    probe = subprocess.run(
        [sys.executable, "-m", "slakeeper.cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode == 0:
        return [sys.executable, "-m", "slakeeper.cli"]
    return [str(Path(sys.executable).with_name("slakeeper"))]


def test_cli_reports_every_broken_file_without_a_traceback() -> None:
    files = [str(path) for path in BROKEN_FILES]
    result = subprocess.run(
        [*slakeeper_command(), "policy", "check", *files],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    for file in files:
        assert f"error: {file}:" in result.stderr, f"{file} is not named in stderr"
    for line in result.stderr.splitlines():
        assert line.startswith("error: "), line


def test_every_example_policy_passes_check() -> None:
    files = [str(path) for path in EXAMPLE_FILES]
    assert files, "no example policies found"
    result = subprocess.run(
        [*slakeeper_command(), "policy", "check", *files],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == len(files)
    for file, line in zip(files, lines, strict=True):
        assert line.startswith(f"{file}: ok ("), line
