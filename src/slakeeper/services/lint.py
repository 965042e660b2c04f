"""``slakeeper policy lint``: the mistakes seed 004 warns about, and numbers that disagree.

A policy can be valid (``slakeeper policy check``) and still make a weak or contradictory
agreement: availability promised for a service nobody defined, severities without definitions,
an internal SLO looser than the SLA it protects. Each kind of finding has a stable code
(:data:`RULES`, documented in ``docs/lint.md``), a severity (``error`` for numbers that
contradict each other, ``warning`` for what is missing or risky) and the key and line it
concerns. A finding the provider means to keep is silenced in the policy itself, per code and
key, with a reason (``lint.silence``); a silence that no longer matches anything is reported,
so silences cannot outlive the mistake they excused.

The rules themselves are in :mod:`slakeeper.services.lint_rules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from slakeeper.policy.loader import LoadedPolicy
from slakeeper.policy.source import Path, Position, SourceMap, dotted
from slakeeper.services import lint_rules


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Rule:
    code: str
    level: Level
    title: str


RULES: tuple[Rule, ...] = (
    Rule("SLA001", Level.WARNING, "Availability promised with no defined service"),
    Rule("SLA002", Level.WARNING, "Availability promised with no described measurement"),
    Rule("SLA003", Level.WARNING, "Support and enhancement not separated"),
    Rule("SLA004", Level.WARNING, "Severity without a plain-language definition"),
    Rule("SLA005", Level.WARNING, "Resolution guarantee that depends on third parties"),
    Rule("SLA006", Level.WARNING, "No client responsibilities"),
    Rule("SLA007", Level.WARNING, "Monitoring and reporting undefined"),
    Rule("SLA010", Level.ERROR, "Internal SLO looser than the SLA"),
    Rule("SLA011", Level.ERROR, "Resolution target shorter than its response target"),
    Rule("SLA012", Level.WARNING, "Credits with no claim window"),
    Rule("SLA013", Level.WARNING, "Maintenance notice shorter than 24 hours"),
    Rule("SLA014", Level.WARNING, "Credits but no exclusions"),
    Rule("SLA015", Level.WARNING, "Best-effort plan that still lists credits"),
    Rule("SLA016", Level.WARNING, "Severity ladder that skips ids"),
    Rule("SLA090", Level.ERROR, "Silence of an unknown code"),
    Rule("SLA091", Level.WARNING, "Silence that matches no finding"),
)
RULES_BY_CODE = {rule.code: rule for rule in RULES}


@dataclass(frozen=True)
class Finding:
    code: str
    level: Level
    key: str
    line: int | None
    column: int | None
    message: str

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.level.value,
            "key": self.key,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


@dataclass(frozen=True)
class Silenced:
    finding: Finding
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {**self.finding.as_dict(), "reason": self.reason}


@dataclass(frozen=True)
class LintReport:
    file: str
    policy: str
    sha256: str
    findings: tuple[Finding, ...]
    silenced: tuple[Silenced, ...]

    @property
    def errors(self) -> int:
        return sum(1 for finding in self.findings if finding.level is Level.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for finding in self.findings if finding.level is Level.WARNING)

    @property
    def exit_code(self) -> int:
        """0 clean, 1 warnings only, 2 any error."""
        if self.errors:
            return 2
        return 1 if self.warnings else 0

    def summary(self) -> str:
        return (
            f"{self.file}: {_count(self.errors, 'error')}, {_count(self.warnings, 'warning')}, "
            f"{len(self.silenced)} silenced"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "valid": True,
            "policy": self.policy,
            "sha256": self.sha256,
            "findings": [finding.as_dict() for finding in self.findings],
            "silenced": [silenced.as_dict() for silenced in self.silenced],
        }


def lint(loaded: LoadedPolicy, source: SourceMap) -> LintReport:
    """Every finding of every rule on ``loaded``, with silences applied."""
    policy = loaded.policy
    raw = [
        _finding(source, code, path, message)
        for code, path, message in lint_rules.run(policy, source)
    ]
    silences = policy.lint.silence
    used: set[int] = set()
    active: list[Finding] = []
    silenced: list[Silenced] = []
    for finding in raw:
        match = next(
            (
                index
                for index, silence in enumerate(silences)
                if silence.code == finding.code and _under(finding.key, silence.key)
            ),
            None,
        )
        if match is None:
            active.append(finding)
        else:
            used.add(match)
            silenced.append(Silenced(finding, silences[match].reason))
    for index, silence in enumerate(silences):
        path: Path = ("lint", "silence", index)
        if silence.code not in RULES_BY_CODE:
            known = ", ".join(sorted(RULES_BY_CODE))
            message = f"'{silence.code}' is not a lint code (codes: {known})"
            active.append(_finding(source, "SLA090", (*path, "code"), message))
        elif index not in used:
            message = (
                f"nothing to silence: no {silence.code} finding concerns '{silence.key}'; "
                "remove this entry"
            )
            active.append(_finding(source, "SLA091", (*path, "key"), message))
    return LintReport(
        file=loaded.source,
        policy=policy.metadata.name,
        sha256=loaded.sha256,
        findings=tuple(sorted(active, key=_order)),
        silenced=tuple(sorted(silenced, key=lambda item: _order(item.finding))),
    )


def format_finding(file: str, finding: Finding) -> str:
    """``file:line:column: CODE severity key: message`` (one line)."""
    where = file
    if finding.line is not None:
        where += f":{finding.line}"
        if finding.column is not None:
            where += f":{finding.column}"
    return f"{where}: {finding.code} {finding.level.value} {finding.key}: {finding.message}"


def _finding(source: SourceMap, code: str, path: Path, message: str) -> Finding:
    rule = RULES_BY_CODE[code]
    position = _position(source, path)
    return Finding(
        code=code,
        level=rule.level,
        key=dotted(path),
        line=position.line if position else None,
        column=position.column if position else None,
        message=message,
    )


def _position(source: SourceMap, path: Path) -> Position | None:
    """Where ``path``'s key is written, else its nearest written ancestor (never the root)."""
    for cut in range(len(path), 0, -1):
        prefix = path[:cut]
        if prefix in source.keys:
            return source.keys[prefix]
        if prefix in source.values:
            return source.values[prefix]
    return None


def _under(key: str, silenced_key: str) -> bool:
    """``key`` is ``silenced_key`` or a key inside it."""
    if key == silenced_key:
        return True
    return key.startswith(silenced_key) and key[len(silenced_key)] in ".["


def _order(finding: Finding) -> tuple[bool, int, int, str, str]:
    """By line; findings about keys the file does not write come last."""
    return (
        finding.line is None,
        finding.line or 0,
        finding.column or 0,
        finding.code,
        finding.key,
    )


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"
