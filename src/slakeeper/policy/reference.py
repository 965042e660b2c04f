"""Generate ``docs/policy-reference.md`` from the models, so the reference cannot drift.

Run ``python -m slakeeper.policy.reference > docs/policy-reference.md`` after changing a model;
``tests/unit/test_docs.py`` fails while the file differs from what this prints.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from slakeeper.policy import models as pm
from slakeeper.policy.types import format_duration

INTRO = """# Policy reference

A slakeeper policy is one YAML document that states an SLA once: what is measured, what
uptime is promised per plan, what is excluded, what credit is owed, how fast support answers,
and how the agreement is reported and reviewed. `slakeeper policy check FILE` validates one;
`slakeeper policy schema` prints the JSON Schema for editors. The five files in
`examples/policies/` express five real SLAs and are the best place to start.

This page is generated from the models by `python -m slakeeper.policy.reference`; a test fails
when it is out of date.

## Conventions

- **Unknown keys are errors**, with a "did you mean" hint. Every problem in a file is reported
  at once, as `file:line:column: key.path: message`.
- **Ids** are lowercase letters, digits, `.`, `_` and `-` (`ingest-api`, `24x7`). References to
  components, regions, plans, severities and calendars must name a defined id (a severity may
  also be named by its name or an alias).
- **Percentages** are numbers from 0 to 100 (`99.9`, or the text `"99.9 %"`). They are read
  exactly from the file's text: `99.9` is 99.9, never a binary float.
- **Durations** are text: a number and a unit, largest unit first: `500ms`, `90s`, `45m`,
  `4h30m`, `2d`, `1w`.
- **Instants** are RFC 3339 with an offset (`2026-10-03T10:00:00Z`); a naive instant is an
  error. **Dates** are `YYYY-MM-DD`.
- **Time ranges** are local wall-clock `HH:MM-HH:MM`; `22:00-06:00` runs overnight into the
  next day and belongs to the day it starts on; `00:00-24:00` is a whole day.
- **Days** are a list (`[mon, tue]`), a range (`mon-fri`) or `every-day`.
- Only YAML 1.2 booleans (`true`, `false`) are booleans; `yes`, `on` and friends are text.
- YAML anchors and aliases (`&paid` / `*paid`) may share a block between plans.
"""


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        base = args[0]
        metadata = args[1:]
        name = _type_name(base)
        for item in metadata:
            schema = getattr(item, "json_schema", None)
            if isinstance(schema, dict) and "pattern" in schema:
                if base is timedelta:
                    return "duration"
                if "\\d{2}:\\d{2}" in schema["pattern"]:
                    return "time range"
            if isinstance(schema, dict) and "oneOf" in schema:
                return "days"
        if base is Decimal and any("maximum" in str(m) for m in metadata):
            return "percent"
        if base is str and any("HttpStatus" in str(m) or "5xx" in str(m) for m in metadata):
            return "HTTP status"
        return name
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(arg) for arg in args if arg is not type(None)]
        return " or ".join(dict.fromkeys(names))
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is tuple:
        return "time range" if args and args[0] is int else "list"
    if origin is typing.Literal:
        return " or ".join(f"`{arg}`" for arg in args)
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
        if issubclass(annotation, Enum):
            return " or ".join(f"`{member.value}`" for member in annotation)
        type_names: dict[type, str] = {
            str: "text",
            int: "integer",
            bool: "boolean",
            Decimal: "number",
            datetime: "instant",
            date: "date",
            timedelta: "duration",
        }
        if annotation.__name__ == "AwareDatetime":
            return "instant"
        return type_names.get(annotation, annotation.__name__)
    return str(annotation)


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "**required**"
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return ""
    else:
        value = field.default
    if value is None:
        return "none"
    if isinstance(value, BaseModel):
        return "see its section"
    if isinstance(value, list):
        if not value:
            return "`[]`"
        if isinstance(value[0], BaseModel):
            return "see its section"
        return "`[" + ", ".join(str(item) for item in value) + "]`"
    if isinstance(value, Enum):
        return f"`{value.value}`"
    if isinstance(value, timedelta):
        return f"`{format_duration(value)}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def _models(root: type[BaseModel]) -> Iterator[type[BaseModel]]:
    seen: list[type[BaseModel]] = []

    def visit(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.append(model)
        for field in model.model_fields.values():
            for inner in _inner_models(field.annotation):
                visit(inner)

    visit(root)
    yield from seen


def _inner_models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in typing.get_args(annotation):
        yield from _inner_models(arg)


def field_keys(model: type[BaseModel]) -> list[str]:
    """The YAML keys of ``model`` (aliases where a field has one)."""
    return [field.alias or name for name, field in model.model_fields.items()]


def documented_models() -> list[type[BaseModel]]:
    return list(_models(pm.Policy))


def render() -> str:
    out = [INTRO]
    for model in documented_models():
        out.append(f"## {model.__name__}\n")
        doc = (model.__doc__ or "").strip()
        if doc and model is not pm.Policy and not doc.startswith("Usage docs"):
            out.append(doc.splitlines()[0] + "\n")
        out.append("| key | type | default | meaning |")
        out.append("| --- | --- | --- | --- |")
        for name, field in model.model_fields.items():
            key = field.alias or name
            description = (field.description or "").replace("|", "\\|")
            annotation: Any = field.annotation
            if field.metadata:
                annotation = typing.Annotated[(annotation, *field.metadata)]
            type_name = _type_name(annotation).replace("|", "\\|")
            out.append(f"| `{key}` | {type_name} | {_default(field)} | {description} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
