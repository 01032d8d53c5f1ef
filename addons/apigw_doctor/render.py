"""The output layer: draws a `Diagnosis` as terminal text (rich) and as a flow comment. The engine never draws."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit, urlunsplit

from rich.console import Group
from rich.table import Table
from rich.text import Text

from .causes import WARNINGS
from .model import Diagnosis

_STYLE = {"high": "bold red", "medium": "bold yellow", "low": "bold blue"}
MARK_FAILURE = ":no_entry:"
MARK_WARNING = ":warning:"


def headline(d: Diagnosis) -> str:
    """`401 GET /prod/items  token-expired (high)`; for warnings-only flows, the warning codes."""
    if d.cause is None:
        return f"{d.status} {d.method} {d.path}  warning: {', '.join(d.warnings)}"
    return f"{d.status} {d.method} {d.path}  {d.cause} ({d.confidence})"


def comment(d: Diagnosis) -> str:
    """The flow comment: one line, then the detail (shown in mitmweb's Comment tab)."""
    if d.cause is None:
        return "; ".join(WARNINGS[w] for w in d.warnings)
    lines = [f"{d.cause} ({d.confidence}): {d.title}", "", d.summary, "", "Fix:"]
    lines += [f"- {step}" for step in d.fix]
    lines += ["", "Evidence:"] + [f"- {line}" for line in d.evidence]
    if d.warnings:
        lines += ["", "Warnings:"] + [f"- {w}: {WARNINGS[w]}" for w in d.warnings]
    return "\n".join(lines)


def verdict_rows(d: Diagnosis) -> list[tuple[str, str]]:
    """The verdict as (label, text) rows below the headline: the one layout both renderers draw."""
    if d.cause is None:
        return [("warning", f"{code}: {WARNINGS[code]}") for code in d.warnings]
    rows = [("why", d.title), ("", d.summary)]
    rows += [("fix" if i == 1 else "", f"{i}. {step}") for i, step in enumerate(d.fix, 1)]
    rows += [("evidence" if i == 0 else "", f"• {line}") for i, line in enumerate(d.evidence)]
    rows += [("warning" if i == 0 else "", f"{code}: {WARNINGS[code]}") for i, code in enumerate(d.warnings)]
    return rows


def verdict_renderable(d: Diagnosis) -> Group:
    """For rich consoles (the CLI)."""
    style = _STYLE.get(d.confidence or "", "bold") if d.cause else "yellow"
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    for label, text in verdict_rows(d):
        grid.add_row(f"  {label}", Text(text, style="bold") if label == "why" else text)
    return Group(Text(headline(d), style=style), grid)


def render_text(d: Diagnosis, width: int = 110) -> str:
    """Plain text in the same layout, for mitmdump's log.

    Not drawn with rich here, nor wrapped with textwrap: they take about 3.6 ms and 0.2 ms per verdict, which on
    all-failing traffic would cost more throughput than docs/design.md ("Quality targets") allows. Plain text also has
    no ANSI codes to garble
    the mitmproxy console UI.
    """
    rows = verdict_rows(d)
    label_width = max((len(label) for label, _ in rows), default=0) + 3
    lines = [headline(d)]
    for label, text in rows:
        lines += _wrap(text, width, f"  {label}".ljust(label_width), " " * label_width)
    return "\n".join(lines)


def _wrap(text: str, width: int, first: str, indent: str) -> list[str]:
    """Greedy word wrap on spaces; a word longer than a line (a URL, an ARN) gets a line of its own."""
    lines: list[str] = []
    line, fresh = first, True  # `fresh`: nothing but the indent on this line yet
    for word in text.split():
        if fresh:
            line, fresh = line + word, False
        elif len(line) + 1 + len(word) > width:
            lines.append(line)
            line = indent + word
        else:
            line = f"{line} {word}"
    lines.append(line.rstrip())
    return lines


def safe_url(url: str) -> str:
    """A URL fit for a report: query values longer than a short word are hidden (they may be tokens or keys)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    shown = "&".join(
        f"{name}={value if len(value) <= 12 and '.' not in value else '<redacted>'}"
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit(parts._replace(query=shown))
