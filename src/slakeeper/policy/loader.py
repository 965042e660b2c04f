"""Load a policy file: YAML -> validated :class:`Policy`, or every problem at once."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from slakeeper.policy.errors import PolicyError, Problem, did_you_mean, one_of
from slakeeper.policy.models import Policy
from slakeeper.policy.references import check_references
from slakeeper.policy.source import Path, SourceMap, YamlSourceError, dotted, load_yaml

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class LoadedPolicy:
    policy: Policy
    sha256: str
    source: str


def load_policy_file(path: str | FilePath) -> LoadedPolicy:
    file = FilePath(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise PolicyError([Problem(str(path), None, None, "", f"cannot read: {reason}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = raw[exc.start : exc.start + 1].hex()
        message = f"byte 0x{byte} is not UTF-8: save the file as UTF-8"
        raise PolicyError([Problem(str(path), line, column, "", message)]) from None
    return load_policy_text(text, str(path))


def load_policy_text(text: str, filename: str = "<policy>") -> LoadedPolicy:
    """Validate ``text``; raise :class:`PolicyError` listing every problem found."""
    sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    policy = validate_document(text, filename, Policy, checks=check_references)
    return LoadedPolicy(policy=policy, sha256=sha256, source=filename)


def validate_document(
    text: str,
    filename: str,
    model: type[M],
    checks: Callable[[M], list[tuple[Path, str]]] | None = None,
) -> M:
    """Parse and validate one YAML document against ``model``, with positioned problems.

    ``checks`` runs on the validated value and returns (key path, message) findings that need
    the whole document, such as references between sections.
    """
    try:
        data, source = load_yaml(text, filename)
    except YamlSourceError as exc:
        raise PolicyError([exc.problem]) from None
    if not isinstance(data, dict):
        raise PolicyError(
            [Problem(filename, 1, 1, "", "the document must be a mapping of keys to values")]
        )
    try:
        result = model.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(translate(exc, data, source, filename, model)) from None
    findings = checks(result) if checks is not None else []
    if findings:
        raise PolicyError(
            sorted(
                (_problem(source, filename, path, message) for path, message in findings),
                key=_order,
            )
        )
    return result


def _order(problem: Problem) -> tuple[int, int]:
    return (problem.line or 0, problem.column or 0)


def _problem(source: SourceMap, filename: str, path: Path, message: str) -> Problem:
    position = source.locate(path)
    return Problem(
        filename,
        position.line if position else None,
        position.column if position else None,
        dotted(path),
        message,
    )


def translate(
    exc: ValidationError, data: Any, source: SourceMap, filename: str, model: type[BaseModel]
) -> list[Problem]:
    """Turn pydantic's errors into problems a person can act on, one per real mistake."""
    problems: dict[tuple[str, str], tuple[int, Problem]] = {}
    errors = exc.errors(include_url=False)
    numeric = {
        _data_path(error["loc"], data) for error in errors if error["type"].startswith("decimal")
    }
    for error in errors:
        path = _data_path(error["loc"], data)
        kind = error["type"]
        if kind == "extra_forbidden":
            key = str(path[-1])
            allowed = _allowed_keys(model, path[:-1], data)
            hint = did_you_mean(key, allowed)
            message = f"unknown key '{key}'{hint} (valid here: {one_of(allowed)})"
            position = source.locate(path, key=True)
        elif kind == "missing":
            message = f"'{path[-1]}' is required here"
            position = source.locate(path[:-1])
        else:
            if kind == "union_tag_invalid":
                path = (*path, "type")
            message = _message(error, accepts_number=path in numeric)
            position = source.locate(path)
        problem = Problem(
            filename,
            position.line if position else None,
            position.column if position else None,
            dotted(path),
            message,
        )
        slot = (problem.key, _family(kind))
        rank = _rank(kind, message)
        if slot not in problems or rank < problems[slot][0]:
            problems[slot] = (rank, problem)
    kept = (problem for _, problem in problems.values())
    return sorted(_without_misspelled_required(kept), key=_order)


def _rank(kind: str, message: str) -> int:
    """Of a union's failures on one value, keep the one that says most to a person."""
    if kind == "literal_error" and "did you mean" in message:
        return 0
    if kind in (
        "value_error",
        "less_than_equal",
        "greater_than_equal",
        "less_than",
        "greater_than",
    ):
        return 1
    if kind == "literal_error":
        return 2
    return 3


def _without_misspelled_required(problems: Iterable[Problem]) -> list[Problem]:
    """Drop "'title' is required" when the same mapping has an unknown key 'titel'."""
    listed = list(problems)
    misspelled = {
        problem.key.rsplit(".", 1)[0]
        + "."
        + problem.message.split("did you mean '")[1].split("'")[0]
        for problem in listed
        if problem.message.startswith("unknown key") and "did you mean '" in problem.message
    }
    return [
        problem
        for problem in listed
        if not (problem.message.endswith("is required here") and problem.key in misspelled)
    ]


def _family(kind: str) -> str:
    # A value that fails every member of a union yields one error per member: keep one.
    return "value" if kind not in ("extra_forbidden", "missing") else kind


def _data_path(loc: tuple[int | str, ...], data: Any) -> Path:
    """pydantic's location minus the union and discriminator tags it inserts."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if _has(node, part):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and not _is_tag(part):
            path.append(part)  # a missing or extra key
            node = None
    return tuple(path)


def _has(node: Any, part: int | str) -> bool:
    if isinstance(node, dict):
        return isinstance(part, str) and part in node
    if isinstance(node, list):
        return isinstance(part, int) and 0 <= part < len(node)
    return False


def _is_tag(part: str) -> bool:
    return (
        part in ("tiers", "time-per-excess-downtime", "none")
        or "[" in part
        or part.startswith(("function-", "literal", "constrained", "json-or-python"))
        or part in ("str", "int", "decimal", "bool", "list", "dict", "timedelta", "date")
    )


def _allowed_keys(model: type[BaseModel], path: Path, data: Any) -> list[str]:
    """The keys the model accepts at ``path`` (aliases where a field has one)."""
    current: Any = model
    node = data
    for part in path:
        if isinstance(node, dict):
            node = node.get(part) if isinstance(part, str) else None
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if _is_model(current) else None
        if field is None:
            for name, candidate in current.model_fields.items():
                if candidate.alias == part:
                    field = current.model_fields[name]
        if field is None:
            return []
        current = _model_in(field.annotation, node)
        if current is None:
            return []
    if not _is_model(current):
        return []
    return [field.alias or name for name, field in current.model_fields.items()]


def _is_model(candidate: Any) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)


def _model_in(annotation: Any, node: Any) -> type[BaseModel] | None:
    """The model class inside an annotation such as ``list[X] | None`` (by ``type`` tag too)."""
    if _is_model(annotation):
        return annotation  # type: ignore[no-any-return]
    candidates: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg, node)
        if found is not None:
            candidates.append(found)
    for metadata in getattr(annotation, "__metadata__", ()) or ():
        del metadata
    origin_args = getattr(annotation, "__origin__", None)
    if origin_args is not None and not candidates:
        found = _model_in(origin_args, node)
        if found is not None:
            candidates.append(found)
    if len(candidates) > 1 and isinstance(node, dict) and "type" in node:
        for candidate in candidates:
            tag = candidate.model_fields.get("type")
            if tag is not None and node["type"] in getattr(tag.annotation, "__args__", ()):
                return candidate
    return candidates[0] if candidates else None


def _message(error: Any, *, accepts_number: bool = False) -> str:
    kind: str = error["type"]
    message: str = error["msg"]
    given = error.get("input")
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    if kind == "timezone_aware":
        return f"'{given}' has no UTC offset: write it as RFC 3339 with Z or +hh:mm"
    if kind == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern", "")
        if pattern.startswith("^[A-Z]"):
            return f"'{given}' must be an uppercase code, e.g. '{str(given).upper()}'"
        if "a-z0-9" in pattern:
            return (
                f"'{given}' is not a valid id: use lowercase letters, digits, '.', '_' and '-', "
                "starting with a letter or digit"
            )
        return f"'{given}' does not have the expected form ({pattern})"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        words = [word.strip(" '") for word in expected.replace(" or ", ",").split(",")]
        hint = did_you_mean(str(given), words) if isinstance(given, str) else ""
        alternatives = "a number or " if accepts_number else ""
        return f"{given!r} is not valid here{hint} (expected {alternatives}{expected})"
    if kind == "enum":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{given!r} is not valid here; expected {expected}"
    if kind == "union_tag_invalid":
        context = error.get("ctx", {})
        expected = context.get("expected_tags", "")
        tag = context.get("tag", "")
        words = [word.strip(" '") for word in expected.split(",")]
        return f"type '{tag}' is not known{did_you_mean(tag, words)}; expected one of {expected}"
    if kind == "union_tag_not_found":
        return "a 'type' key is required here"
    if given is not None and not isinstance(given, dict | list):
        return f"{message} (got {given!r})"
    return message
