"""The demo's results: one row per scenario, read back from the `-w` flow file, drawn as a rich table or JSON."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from .model import METADATA_KEY
from .wire import PRIMARY_REQUEST_ID_HEADERS


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the addon wrote on one flow (`cause` None: no failure found)."""

    cause: str | None
    confidence: str | None
    title: str
    warnings: tuple[str, ...]
    comment_head: str
    marked: str


@dataclass(frozen=True, slots=True)
class DemoRow:
    scenario: str
    summary: str
    method: str
    url: str
    status: int | None  # what the client saw; None when the request itself failed
    expected: str | None  # the sandbox's own record of why it refused (None: it let the request through)
    verdict: str | None  # the addon's `cause`, read back from the flow file
    confidence: str | None
    matched: bool
    warnings: tuple[str, ...] = ()
    comment: str = ""  # first line of flow.comment
    marked: str = ""
    sandbox_check: str = ""
    sandbox_detail: str = ""
    note: str = ""  # why the comparison could not be made, or the sandbox did not do what the scenario meant

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["warnings"] = list(self.warnings)
        return data


@dataclass(slots=True)
class DemoRun:
    rows: list[DemoRow]
    flow_file: Path
    seconds: float
    log_file: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def matched(self) -> int:
        return sum(r.matched for r in self.rows)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and self.matched == len(self.rows)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "matched": self.matched,
            "total": len(self.rows),
            "seconds": round(self.seconds, 2),
            "flow_file": str(self.flow_file),
            "scenarios": [r.as_dict() for r in self.rows],
            **self.extra,
        }


def request_id(headers: Mapping[str, str] | Any) -> str | None:
    return next((headers[n] for n in PRIMARY_REQUEST_ID_HEADERS if n in headers), None)


def read_verdicts(flow_file: Path) -> dict[str, Verdict]:
    """Verdicts by AWS request id, as saved by `mitmdump -w` (comment, marker and metadata survive in flow files)."""
    from mitmproxy import http, io

    verdicts: dict[str, Verdict] = {}
    with flow_file.open("rb") as fp:
        for f in io.FlowReader(fp).stream():
            if not isinstance(f, http.HTTPFlow) or f.response is None:
                continue
            rid = request_id(f.response.headers)
            if rid is None:
                continue
            meta = f.metadata.get(METADATA_KEY) or {}
            verdicts[rid] = Verdict(
                cause=meta.get("cause"),
                confidence=meta.get("confidence"),
                title=meta.get("title") or "",
                warnings=tuple(meta.get("warnings") or ()),
                comment_head=f.comment.split("\n", 1)[0],
                marked=f.marked,
            )
    return verdicts


def _cause(code: str | None) -> Text:
    return Text(code) if code else Text("allowed", style="green")


def results_table(rows: Iterable[DemoRow], title: str) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("#", justify="right", style="dim")
    table.add_column("scenario", no_wrap=True)
    table.add_column("status", justify="right")
    table.add_column("sandbox did", no_wrap=True)
    table.add_column("apigw-doctor verdict", no_wrap=True)
    table.add_column("confidence")
    table.add_column("match", justify="center")
    for i, row in enumerate(rows, 1):
        verdict = _cause(row.verdict)
        if row.verdict is None and row.warnings:
            verdict = Text("allowed, warning: " + ", ".join(row.warnings), style="yellow")
        table.add_row(
            str(i),
            row.scenario,
            "-" if row.status is None else str(row.status),
            _cause(row.expected),
            verdict,
            row.confidence or "",
            Text("✓", style="bold green") if row.matched else Text("✗", style="bold red"),
        )
    return table


def mismatch_lines(rows: Iterable[DemoRow]) -> list[str]:
    """One line per row whose verdict differs from what the sandbox did, with the sandbox's own detail."""
    lines = []
    for row in rows:
        if row.matched:
            continue
        why = f"{row.scenario}: sandbox did {row.expected or 'allow'}, apigw-doctor says {row.verdict or 'allowed'}"
        detail = "; ".join(x for x in (row.sandbox_check, row.sandbox_detail, row.note) if x)
        lines.append(why + (f" ({detail})" if detail else ""))
    return lines
