"""The self-contained HTML timeline report: one file, SVG drawn from a Jinja2 template, no script, no network."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from mitmproxy import http

from ..evidence.redact import redact_value
from .timeline import FingerprintOf, Timeline, collect, layout

TEMPLATE = "timeline.html.j2"


@cache
def _environment() -> jinja2.Environment:
    loader = jinja2.FileSystemLoader(Path(__file__).parent)
    return jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True)


def render_timeline(timeline: Timeline, title: str = "apigw-doctor timeline") -> str:
    """The report as HTML text. Every text from traffic is redacted as the evidence bundle is, then escaped."""
    page: dict[str, Any] = redact_value(layout(timeline, title=title))
    return _environment().get_template(TEMPLATE).render(**page)


def write_report(
    flows: Iterable[http.HTTPFlow], path: str | Path, fingerprint_of: FingerprintOf, title: str | None = None
) -> Path:
    """Write the timeline of `flows` to `path` (parent directories created); returns the path."""
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    text = render_timeline(collect(flows, fingerprint_of), title or "apigw-doctor timeline")
    target.write_text(text, encoding="utf-8")
    return target
