"""The output layer: draws a `Diagnosis` as terminal text (rich) and as a flow comment. The engine never draws."""

from __future__ import annotations

import io
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from rich.console import Console, Group
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


def verdict_renderable(d: Diagnosis) -> Group:
    style = _STYLE.get(d.confidence or "", "bold")
    head = Text(headline(d), style=style if d.cause else "yellow")
    parts: list = [head]
    if d.cause is None:
        parts += [Text(f"  {WARNINGS[w]}") for w in d.warnings]
        return Group(*parts)
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    grid.add_row("  why", Text(d.title, style="bold"))
    grid.add_row("", d.summary)
    for i, step in enumerate(d.fix, 1):
        grid.add_row("  fix" if i == 1 else "", f"{i}. {step}")
    for i, line in enumerate(d.evidence):
        grid.add_row("  evidence" if i == 0 else "", f"• {line}")
    for i, code in enumerate(d.warnings):
        grid.add_row("  warning" if i == 0 else "", f"{code}: {WARNINGS[code]}")
    parts.append(grid)
    return Group(*parts)


def render_text(d: Diagnosis, width: int = 110, color: bool = False) -> str:
    """Plain text for mitmdump's log (no ANSI codes: the mitmproxy console UI would show them as garbage)."""
    console = Console(
        file=io.StringIO(),
        width=width,
        color_system="standard" if color else None,
        force_terminal=color,
        highlight=False,
        soft_wrap=False,
    )
    console.print(verdict_renderable(d))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return "\n".join(line.rstrip() for line in text.rstrip().splitlines())


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
