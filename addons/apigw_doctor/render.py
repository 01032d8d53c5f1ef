"""The output layer: draws a `Diagnosis` as terminal text (rich) and as a flow comment. The engine never draws."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from rich.console import Group
from rich.table import Table
from rich.text import Text

from .causes import WARNINGS
from .model import Alternative, Diagnosis

_STYLE = {"high": "bold red", "medium": "bold yellow", "low": "bold blue"}
CONFIDENCE_MARK = {"high": "H", "medium": "M", "low": "L"}


def headline(d: Diagnosis) -> str:
    """`401 GET /prod/items  token-expired (high)`; for warnings-only flows, the warning codes."""
    if d.cause is None:
        return f"{d.status} {d.method} {d.path}  warning: {', '.join(d.warnings)}"
    return f"{d.status} {d.method} {d.path}  {d.cause} ({d.confidence})"


def comment_head(cause: str | None, confidence: str | None, warnings: Sequence[str] = ()) -> str:
    """How our comment starts, short enough for mitmweb's 150 px comment column: the code, then the confidence
    as one letter (`token-expired [H]`), or `warning: expires-soon`."""
    if cause is None:
        return "warning: " + ", ".join(warnings)
    return f"{cause} [{CONFIDENCE_MARK.get(confidence or '', '?')}]"


def comment(d: Diagnosis) -> str:
    """The flow comment. mitmweb shows it as one paragraph (its line breaks collapse), so each line is a sentence
    that reads on in a paragraph; the structured detail is in the `apigw` content view of the request and response.
    """
    head = comment_head(d.cause, d.confidence, d.warnings)
    if d.cause is None:
        return "\n".join([f"{head}.", *(_sentence(WARNINGS[w]) for w in d.warnings)])
    lines = [f"{head} {_sentence(d.title)}", _sentence(d.summary)]
    lines.append("Fix: " + " ".join(f"({i}) {_sentence(step)}" for i, step in enumerate(d.fix, 1)))
    if d.alternatives:
        lines.append("Also possible: " + " ".join(_alternative_sentence(a) for a in d.alternatives))
    if d.warnings:
        lines.append("Warnings: " + " ".join(_sentence(f"{w}: {WARNINGS[w]}") for w in d.warnings))
    lines.append("Evidence, the token and every check: the apigw view of the request or the response.")
    return "\n".join(lines)


def one_line(meta: dict) -> str:
    """A verdict (the flow metadata) in one line: command output, which mitmweb shows as one quoted string."""
    head = comment_head(meta.get("cause"), meta.get("confidence"), meta.get("warnings") or ())
    if not meta.get("cause"):
        return f"{head}."
    fix = " ".join(f"({i}) {_sentence(str(step))}" for i, step in enumerate(meta.get("fix") or [], 1))
    return f"{head} {_sentence(str(meta.get('title', '')))} {_sentence(str(meta.get('summary', '')))} Fix: {fix}"


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if not text or text[-1] in ".!?:)" else text + "."


def _alternative(a: Alternative) -> str:
    return f"- {a.cause} ({a.confidence}): {a.title}; tell apart by {a.tell}"


def _alternative_sentence(a: Alternative) -> str:
    return _sentence(f"{a.cause} [{CONFIDENCE_MARK.get(a.confidence, '?')}], {a.title}; tell apart by {a.tell}")


def verdict_rows(d: Diagnosis) -> list[tuple[str, str]]:
    """The verdict as (label, text) rows below the headline: the one layout both renderers draw."""
    if d.cause is None:
        return [("warning", f"{code}: {WARNINGS[code]}") for code in d.warnings]
    rows = [("why", d.title), ("", d.summary)]
    rows += [("fix" if i == 1 else "", f"{i}. {step}") for i, step in enumerate(d.fix, 1)]
    rows += [("or" if i == 0 else "", _alternative(a)[2:]) for i, a in enumerate(d.alternatives)]
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
