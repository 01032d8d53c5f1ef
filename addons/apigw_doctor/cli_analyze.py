"""`apigw-doctor analyze FILE...`: the same engine over HAR files and mitmproxy flow files."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from mitmproxy import exceptions, http, io, optmanager
from rich.console import Console
from rich.table import Table

from . import options
from .addon import annotate
from .engine import observe_flow
from .knowledge import Knowledge
from .model import Diagnosis
from .render import safe_url, verdict_renderable


def knowledge_from(specs: list[str]) -> Knowledge:
    """Parse `--set NAME=VALUE` exactly as mitmdump would, with the same option declarations."""
    manager = optmanager.OptManager()
    options.declare(manager)
    try:
        manager.set(*specs)
        return options.knowledge_from(manager)
    except (exceptions.OptionsError, ValueError) as e:
        print(f"apigw-doctor: {e}", file=sys.stderr)
        raise SystemExit(2) from None


class UnreadableFile(Exception):
    """A file given to `analyze` that is not a HAR or flow file; the message says what to do."""


def read_flows(path: Path) -> list[http.HTTPFlow]:
    """HTTP flows from a HAR or mitmproxy flow file; `UnreadableFile` (not a traceback) for anything else."""
    try:
        with path.open("rb") as fp:
            return [f for f in io.FlowReader(fp).stream() if isinstance(f, http.HTTPFlow)]
    except FileNotFoundError:
        raise UnreadableFile(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UnreadableFile(f"{path}: is a directory; give a .har or flow file") from None
    except PermissionError:
        raise UnreadableFile(f"{path}: permission denied") from None
    except (exceptions.FlowReadException, ValueError, KeyError, TypeError) as e:
        raise UnreadableFile(
            f"{path}: not a HAR file or mitmproxy flow file ({e}). "
            "Export a HAR from the browser's network panel, or save flows with mitmdump -w FILE."
        ) from None


def credentials_stripped(path: Path) -> bool:
    """A Chrome (or Edge) HAR that holds no Authorization or Cookie header at all: the default, sanitized export.

    Chrome's sanitized export leaves no marker; it just drops those headers. So judge the file as a whole.
    """
    try:
        with path.open("rb") as fp:
            if fp.read(1) not in (b"{", b"\xef"):
                return False
        document = json.loads(path.read_text(encoding="utf-8-sig"))
        log = document["log"]
        if log.get("creator", {}).get("name") != "WebInspector":
            return False
        names = {h.get("name", "").lower() for e in log.get("entries", []) for h in e["request"].get("headers", [])}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    return not names & {"authorization", "cookie"}


def analyze(
    files: list[str], specs: list[str], *, as_json: bool, evidence: str | None, show_all: bool, html: str | None = None
) -> int:
    knowledge = knowledge_from(specs)
    err = Console(stderr=True, highlight=False, soft_wrap=True)  # messages stay one line each, for grep and logs
    rows: list[dict[str, Any]] = []
    diagnosed: list[tuple[http.HTTPFlow, Diagnosis]] = []
    seen: list[http.HTTPFlow] = []  # kept for the --html timeline only
    unreadable = 0
    for name in files:
        try:
            flows = read_flows(Path(name))
        except UnreadableFile as e:
            err.print(f"[red]apigw-doctor:[/red] {e}", markup=True, highlight=False)
            unreadable += 1
            continue
        stripped = credentials_stripped(Path(name))
        if not as_json:
            err.print(f"[dim]{name}: {len(flows)} HTTP flows[/dim]")
            if stripped:
                err.print(
                    "[yellow]This HAR holds no Authorization or Cookie header: Chrome's sanitized export drops "
                    "them. Token checks are skipped; export 'with sensitive data' for a full diagnosis.[/yellow]"
                )
        for f in flows:
            diagnosis = observe_flow(f, knowledge, credentials_stripped=stripped)
            if diagnosis is not None:
                annotate(f, diagnosis)  # our copy, read from a file: the same annotation the live addon makes
                if diagnosis.cause:
                    diagnosed.append((f, diagnosis))
            rows.append(_row(len(rows) + 1, f, diagnosis))
            if html:
                seen.append(f)

    bundles = _write_evidence([f for f, _ in diagnosed], evidence) if evidence else []
    if html:
        from .conversation import flow_fingerprint
        from .report.html import write_report

        report = write_report(seen, html, lambda f: flow_fingerprint(f, knowledge), title=f"apigw-doctor: {files[0]}")
        err.print(f"timeline: {report}")
    if as_json:
        json.dump({"flows": rows}, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        _print_report(rows, diagnosed, show_all)
        for path in bundles:
            err.print(f"evidence: {path}")
    return 1 if unreadable else 0


def _row(index: int, f: http.HTTPFlow, diagnosis: Diagnosis | None) -> dict[str, Any]:
    meta = diagnosis.as_metadata() if diagnosis is not None else None
    return {
        "index": index,
        "method": f.request.method,
        "url": safe_url(f.request.pretty_url),
        "status": f.response.status_code if f.response else None,
        "target": meta["target"] if meta else None,
        "diagnosis": meta,
    }


def _write_evidence(flows: list[http.HTTPFlow], directory: str) -> list[Path]:
    from .evidence.bundle import write_bundle

    return [write_bundle(f, directory) for f in flows]


def _print_report(rows: list[dict[str, Any]], diagnosed: list[tuple[http.HTTPFlow, Diagnosis]], show_all: bool) -> None:
    out = Console(highlight=False)
    if not rows:
        out.print("No HTTP flows were read.")
        return
    table = Table(title="Flows", title_justify="left")
    for column in ("#", "status", "method", "url", "verdict", "confidence"):
        table.add_column(column, overflow="fold")
    for row in rows:
        meta = row["diagnosis"]
        if meta is None and not show_all:
            continue
        verdict = (meta["cause"] or "warning: " + ", ".join(meta["warnings"])) if meta else "-"
        table.add_row(
            str(row["index"]),
            str(row["status"]),
            row["method"],
            row["url"],
            verdict,
            (meta or {}).get("confidence") or "",
        )
    out.print(table)
    counts = Counter(row["diagnosis"]["cause"] for row in rows if row["diagnosis"] and row["diagnosis"]["cause"])
    summary = Table(title="By cause", title_justify="left")
    summary.add_column("cause")
    summary.add_column("flows", justify="right")
    for cause, count in counts.most_common():
        summary.add_row(cause, str(count))
    out.print(summary if counts else "No authorization failures found.")
    for _, diagnosis in diagnosed:
        out.print()
        out.print(verdict_renderable(diagnosis))
