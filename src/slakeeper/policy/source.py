"""Read a YAML document into plain values while remembering where every value came from.

The policy language never sees floats or implicit timestamps: a YAML number with a fraction
becomes a :class:`~decimal.Decimal` built from its source text (so ``99.9`` is exactly 99.9),
and a timestamp stays a string for the models to parse (so a naive one can be refused instead
of silently assumed). Duplicate keys are an error, as they almost always are a mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from slakeeper.policy.errors import Problem

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class SourceMap:
    """Where each value (by key path) and each mapping key starts in the file."""

    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)

    def locate(self, path: Path, *, key: bool = False) -> Position | None:
        """The position of ``path``, or of its nearest ancestor that is known."""
        table = self.keys if key else self.values
        if path in table:
            return table[path]
        if key and path in self.values:
            return self.values[path]
        for cut in range(len(path) - 1, -1, -1):
            prefix = path[:cut]
            if prefix in self.values:
                return self.values[prefix]
        return None


class YamlSourceError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


def load_yaml(text: str, filename: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document; return its plain value and the source map."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        detail = exc.problem or exc.context or ""
        if "'\\t'" in detail:
            detail = "a tab is used for indentation; YAML needs spaces"
        message = f"this is not valid YAML: {detail}"
        raise YamlSourceError(Problem(filename, line, column, "", message)) from None
    except yaml.YAMLError as exc:
        raise YamlSourceError(
            Problem(filename, None, None, "", f"this is not valid YAML: {exc}")
        ) from None
    if node is None:
        raise YamlSourceError(Problem(filename, 1, 1, "", "the file is empty"))
    source = SourceMap()
    value = _build(node, (), source, filename)
    return value, source


def _position(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def _build(node: yaml.Node, path: Path, source: SourceMap, filename: str) -> Any:
    source.values[path] = _position(node)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                pos = _position(key_node)
                raise YamlSourceError(
                    Problem(filename, pos.line, pos.column, _dotted(path), "keys must be text")
                )
            if key_node.tag == "tag:yaml.org,2002:merge":
                pos = _position(key_node)
                raise YamlSourceError(
                    Problem(
                        filename,
                        pos.line,
                        pos.column,
                        _dotted(path),
                        "YAML merge keys (<<) are not supported: write the keys out",
                    )
                )
            key = str(key_node.value)
            if key in result:
                pos = _position(key_node)
                first = source.keys[(*path, key)]
                raise YamlSourceError(
                    Problem(
                        filename,
                        pos.line,
                        pos.column,
                        _dotted((*path, key)),
                        f"duplicate key '{key}' (first given on line {first.line})",
                    )
                )
            source.keys[(*path, key)] = _position(key_node)
            result[key] = _build(value_node, (*path, key), source, filename)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*path, index), source, filename) for index, item in enumerate(node.value)
        ]
    assert isinstance(node, yaml.ScalarNode)
    return _scalar(node, path, filename)


def _scalar(node: yaml.ScalarNode, path: Path, filename: str) -> Any:
    text = node.value
    if node.style is not None and node.style in "'\"|>":
        return text
    tag = node.tag
    if tag == _NULL_TAG:
        return None
    if tag == _BOOL_TAG:
        # Only YAML 1.2 booleans: "yes", "on" and friends stay text.
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        return text
    if tag == _INT_TAG:
        try:
            return int(text.replace("_", ""), 0)
        except ValueError:
            return text
    if tag == _FLOAT_TAG:
        if text.lower().lstrip("+-") in (".inf", ".nan"):
            pos = _position(node)
            raise YamlSourceError(
                Problem(filename, pos.line, pos.column, _dotted(path), "numbers must be finite")
            )
        try:
            number = Decimal(text.replace("_", ""))
        except InvalidOperation:
            return text
        return number
    if tag == _TIMESTAMP_TAG:
        return text
    return text


def _dotted(path: Path) -> str:
    return dotted(path)


def dotted(path: Path) -> str:
    """``('plans', 0, 'uptime')`` -> ``plans[0].uptime``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
