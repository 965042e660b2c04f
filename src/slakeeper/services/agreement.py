"""The SLA as a document: the customer-facing agreement for one plan, rendered from the policy.

The agreement a customer reads and the rules ``slakeeper evaluate`` enforces come from the same
policy, so they cannot disagree: every figure here is computed by the same code the evaluation
uses (:mod:`slakeeper.policy.compile`, the domain's credit bands, :func:`human_seconds`).

:func:`build_agreement` turns a policy and a plan (and optionally one customer's overrides) into
an :class:`Agreement`: sections in the order seed 004 recommends, each a tuple of simple blocks.
:func:`render_agreement` renders it as Markdown, standalone printable HTML or PDF
(:mod:`slakeeper.services.agreement_pdf`, through WeasyPrint) and returns the bytes with their
media type. Nothing here reads files, the clock or the environment, so the same call serves the
CLI and, later, the server publishing each plan's agreement at a public URL; equal inputs give
equal bytes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

import jinja2

from slakeeper.policy.loader import LoadedPolicy
from slakeeper.policy.overrides import LoadedOverrides, apply_overrides
from slakeeper.services.agreement_blocks import Agreement, Context
from slakeeper.services.agreement_sections import lead, sections


class Format(StrEnum):
    MARKDOWN = "md"
    HTML = "html"
    PDF = "pdf"


MONTH_NAMES = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

MEDIA_TYPES = {
    Format.MARKDOWN: "text/markdown; charset=utf-8",
    Format.HTML: "text/html; charset=utf-8",
    Format.PDF: "application/pdf",
}


@dataclass(frozen=True)
class RenderedAgreement:
    content: bytes
    media_type: str
    filename: str

    @property
    def etag(self) -> str:
        """A strong validator for HTTP caching: the sha256 of the content."""
        return hashlib.sha256(self.content).hexdigest()


# --------------------------------------------------------------------------- building
def build_agreement(
    loaded: LoadedPolicy, plan_id: str, overrides: LoadedOverrides | None = None
) -> Agreement:
    """The agreement for ``plan_id`` (raises ``KeyError`` for an unknown plan)."""
    policy = loaded.policy
    policy.plan(plan_id)
    customer = None
    if overrides is not None:
        policy = apply_overrides(policy, plan_id, overrides.overrides)
        customer = overrides.overrides
    context = Context(policy=policy, plan=policy.plan(plan_id), overrides=customer)
    effective = policy.metadata.effective
    return Agreement(
        title=policy.metadata.title,
        plan_name=context.plan.name,
        provider=policy.metadata.provider,
        customer=None if customer is None else customer.customer,
        effective=None if effective is None else _date(effective, policy.metadata.timezone),
        lead=lead(context),
        sections=sections(context),
        policy_name=policy.metadata.name,
        policy_sha256=loaded.sha256,
        overrides_sha256=None if overrides is None else overrides.sha256,
    )


def _date(value: datetime, zone: str) -> str:
    """``14 February 2026`` in the contract time zone (with the time when not midnight)."""
    moment = value.astimezone(ZoneInfo(zone))
    text = f"{moment.day} {MONTH_NAMES[moment.month - 1]} {moment.year}"
    if moment.time() != time.min:
        text += f", {moment:%H:%M} {zone} time"
    return text


# --------------------------------------------------------------------------- rendering
def render_agreement(
    loaded: LoadedPolicy,
    plan_id: str,
    output: Format,
    overrides: LoadedOverrides | None = None,
) -> RenderedAgreement:
    """The agreement for ``plan_id`` as bytes of ``output``'s format, with its media type."""
    agreement = build_agreement(loaded, plan_id, overrides)
    if output is Format.MARKDOWN:
        content = render_markdown(agreement).encode("utf-8")
    elif output is Format.HTML:
        content = render_html(agreement).encode("utf-8")
    else:
        from slakeeper.services.agreement_pdf import html_to_pdf

        content = html_to_pdf(render_html(agreement))
    stem = f"{agreement.policy_name}--{plan_id}"
    if overrides is not None:
        stem += f"--{_slug(overrides.overrides.customer)}"
    return RenderedAgreement(content, MEDIA_TYPES[output], f"{stem}.{output.value}")


def render_markdown(agreement: Agreement) -> str:
    text = _environment(markdown=True).get_template("agreement.md.j2").render(a=agreement)
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def render_html(agreement: Agreement) -> str:
    return _environment(markdown=False).get_template("agreement.html.j2").render(a=agreement)


@cache
def _environment(*, markdown: bool) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("slakeeper", "templates/agreement"),
        autoescape=not markdown,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["md"] = markdown_text
    environment.filters["cell"] = markdown_cell
    return environment


_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]]|<(?=[A-Za-z/!?]))")
_LONE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_LINE_START = re.compile(r"^(#|>|[-+]\s)")
_ORDERED_START = re.compile(r"^(\d+)([.)]\s)")


def markdown_text(text: str) -> str:
    """``text`` as literal Markdown: no accidental emphasis, links, headings or HTML."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))
    escaped = _LONE_UNDERSCORE.sub(r"\\_", escaped)
    escaped = _ORDERED_START.sub(r"\1\\\2", escaped)
    return _LINE_START.sub(r"\\\1", escaped)


def markdown_cell(text: str) -> str:
    return markdown_text(text).replace("|", "\\|")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "customer"
