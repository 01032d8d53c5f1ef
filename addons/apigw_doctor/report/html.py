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


def report_for_file(flow_file: str | Path, out: str | Path, title: str | None = None) -> Path:
    """The timeline of a saved flow file (what `make demo` writes beside its flows)."""
    from mitmproxy import io

    from ..conversation import flow_fingerprint
    from ..knowledge import Knowledge

    knowledge = Knowledge()
    with Path(flow_file).open("rb") as fp:
        flows = [f for f in io.FlowReader(fp).stream() if isinstance(f, http.HTTPFlow)]
    return write_report(flows, out, lambda f: flow_fingerprint(f, knowledge), title)
