"""`apigw-doctor analyze FILE...`: the same engine over HAR files and mitmproxy flow files.

Flows are streamed: each file is read once, each flow judged as it is read, its row written (`--json`) and its
evidence bundle written (`--evidence`) at once, and then dropped. A HAR is read entry by entry (harstream.py), so
memory is bounded by the largest entry, not the file. An entry or flow that cannot be read is skipped with one line
saying why; what can be read is read. Exit status: 0, or 2 when a file could not be used at all.
"""

from __future__ import annotations

import errno
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from mitmproxy import exceptions, http, io, optmanager
from mitmproxy.io.har import request_to_flow
from rich.console import Console
from rich.table import Table

from . import options
from .addon import annotate
from .bounds import printable
from .engine import observe_flow
from .harstream import CREDENTIAL_HEADER, HarReader, NotAHar, missing_field
from .knowledge import Knowledge
from .model import Diagnosis
from .render import safe_url, verdict_renderable

_PROGRESS_BYTES = 20 * 2**20  # files larger than this get a progress bar on a terminal
_UNUSABLE = 2


@dataclass
class Settings:
    knowledge: Knowledge
    personal: bool = False


def knowledge_from(specs: list[str]) -> Knowledge:
    """Parse `--set NAME=VALUE` exactly as mitmdump would, with the same option declarations."""
    return settings_from(specs).knowledge


def settings_from(specs: list[str]) -> Settings:
    from .evidence.addon import PERSONAL_OPTION
    from .evidence.addon import declare as declare_evidence

    manager = optmanager.OptManager()
    options.declare(manager)
    declare_evidence(manager)  # so `--set apigw_redact_personal=true` works here too
    try:
        manager.set(*specs)
        return Settings(options.knowledge_from(manager), bool(getattr(manager, PERSONAL_OPTION)))
    except (exceptions.OptionsError, ValueError) as e:
        print(f"apigw-doctor: {e}", file=sys.stderr)
        raise SystemExit(_UNUSABLE) from None


class UnreadableFile(Exception):
    """A file given to `analyze` that is not a HAR or flow file; the message says what to do."""


_HINT = "Export a HAR from the browser's network panel, or save flows with mitmdump -w FILE."


@dataclass
class Source:
    """One input file, read as a stream of flows; `skipped` collects one line per entry or flow left out."""

    path: Path
    skipped: list[str] = field(default_factory=list)
    har: bool = False
    stripped: bool = False  # a sanitized browser export: no Authorization or Cookie header anywhere
    size: int = 0
    # Set by the caller: entries to hosts the engine ignores are answered with a row, without building a flow.
    unwatched: Callable[[dict[str, Any]], bool] | None = None
    position: Callable[[], int] = lambda: 0  # bytes read so far, for the progress bar

    def tell(self) -> int:
        return self.position()

    def flows(self, fp: IO[bytes]) -> Iterator[http.HTTPFlow | dict[str, Any]]:
        """Flows; or, for a HAR entry to a host no check applies to, the entry itself (cheaper than a flow)."""
        head = fp.read(64)
        fp.seek(0)
        if not head.strip():
            raise UnreadableFile(f"{self.path}: not a HAR file or mitmproxy flow file (the file is empty). {_HINT}")
        if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
            self.har = True
            yield from self._har(fp)
        else:
            yield from self._flow_file(fp)

    def _har(self, fp: IO[bytes]) -> Iterator[http.HTTPFlow]:
        reader = HarReader(fp)
        self.position = lambda: reader.bytes_read
        entries = iter(reader)
        try:
            first = next(entries, None)
        except NotAHar as e:
            raise UnreadableFile(f"{self.path}: not a HAR file or mitmproxy flow file ({e}). {_HINT}") from None
        # Chrome's sanitized export leaves no marker; it just drops those headers. So the file as a whole is judged:
        # the reader's byte search covers what it read so far, and a byte search of the rest (no parsing) does the
        # rest, only for Chrome's exports.
        self.stripped = reader.info.creator == "WebInspector" and not (
            reader.info.credential_headers or _names_anywhere(fp)
        )
        index = 0
        for entry in _chain_first(first, entries):
            index += 1
            if (missing := missing_field(entry)) is not None:
                self.skipped.append(f"entry {index}: missing field {missing}")
                continue
            if self.unwatched is not None and self.unwatched(entry):
                yield entry
                continue
            try:
                yield request_to_flow(entry)
            except (KeyError, TypeError, ValueError, AttributeError) as e:
                self.skipped.append(
                    f"entry {index}: unreadable ({type(e).__name__}: {printable(str(e)[:200], one_line=True)})"
                )
        self.skipped += reader.info.skipped

    def _flow_file(self, fp: IO[bytes]) -> Iterator[http.HTTPFlow]:
        self.position = fp.tell
        count = 0
        try:
            for f in io.FlowReader(fp).stream():
                count += 1
                if isinstance(f, http.HTTPFlow):
                    yield f
        except (exceptions.FlowReadException, ValueError, KeyError, TypeError) as e:
            if count == 0:
                raise UnreadableFile(f"{self.path}: not a HAR file or mitmproxy flow file ({e}). {_HINT}") from None
            self.skipped.append(f"after flow {count}: the rest of the file is unreadable ({e}); truncated?")


def _names_anywhere(fp: IO[bytes]) -> bool:
    """Whether an Authorization or Cookie header name appears anywhere in the file: a byte search, no parsing."""
    import mmap

    try:
        with mmap.mmap(fp.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return CREDENTIAL_HEADER.search(mm) is not None
    except (OSError, ValueError):  # not a regular file (a pipe): judge by what was read
        return False


def _chain_first(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    if first is None:
        return
    yield first
    yield from rest


class EvidenceWriter:
    """Bundles written as flows are judged; one that fails is skipped with a line, a full disk stops them all."""

    def __init__(self, directory: str, personal: bool, err: Console) -> None:
        self.directory, self.personal, self.err = directory, personal, err
        self.written: list[Path] = []
        self.stopped = False

    def write(self, f: http.HTTPFlow, index: int) -> None:
        from .evidence.bundle import write_bundle

        if self.stopped:
            return
        try:
            self.written.append(write_bundle(f, self.directory, personal=self.personal))
        except OSError as e:
            if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                self.stopped = True
                self.err.print(f"[yellow]apigw-doctor: {e.strerror}: no more evidence is written[/yellow]")
                return
            self._skip(index, e)
        except Exception as e:  # one hostile flow must not stop the others
            self._skip(index, e)

    def _skip(self, index: int, e: Exception) -> None:
        reason = printable(f"{type(e).__name__}: {str(e)[:200]}", one_line=True)
        self.err.print(f"[yellow]apigw-doctor: evidence for flow {index} skipped: {reason}[/yellow]", highlight=False)


class JsonRows:
    """`{"flows": [...]}` written row by row, so no row is kept."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.count = 0
        out.write('{\n  "flows": [')

    def add(self, row: dict[str, Any]) -> None:
        text = json.dumps(row, indent=2, ensure_ascii=False).replace("\n", "\n    ")
        self.out.write(("," if self.count else "") + "\n    " + text)
        self.count += 1

    def close(self) -> None:
        self.out.write("\n  ]\n}\n" if self.count else "]\n}\n")


def analyze(
    files: list[str], specs: list[str], *, as_json: bool, evidence: str | None, show_all: bool, html: str | None = None
) -> int:
    settings = settings_from(specs)
    err = Console(stderr=True, highlight=False, soft_wrap=True)  # messages stay one line each, for grep and logs
    try:
        return _analyze(files, settings, err, as_json=as_json, evidence=evidence, show_all=show_all, html=html)
    except BrokenPipeError:  # `| head`: the reader left; stop quietly, without a traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _analyze(
    files: list[str],
    settings: Settings,
    err: Console,
    *,
    as_json: bool,
    evidence: str | None,
    show_all: bool,
    html: str | None,
) -> int:
    knowledge = settings.knowledge
    rows: list[dict[str, Any]] = []  # text mode only: the table needs them all (compact: no verdict detail)
    diagnosed: list[Diagnosis] = []
    seen: list[http.HTTPFlow] = []  # kept for the --html timeline only
    json_rows = JsonRows(sys.stdout) if as_json else None
    bundles = EvidenceWriter(evidence, settings.personal, err) if evidence else None
    unreadable = 0
    index = 0
    for name in files:
        source = Source(Path(name), unwatched=None if html else _unwatched_by(knowledge))
        try:
            fp = source.path.open("rb")
        except FileNotFoundError:
            err.print(f"[red]apigw-doctor:[/red] {name}: no such file", highlight=False)
            unreadable += 1
            continue
        except IsADirectoryError:
            err.print(f"[red]apigw-doctor:[/red] {name}: is a directory; give a .har or flow file", highlight=False)
            unreadable += 1
            continue
        except PermissionError:
            err.print(f"[red]apigw-doctor:[/red] {name}: permission denied", highlight=False)
            unreadable += 1
            continue
        count = 0
        with fp, _progress(err, name, os.fstat(fp.fileno()).st_size, source.tell) as tick:
            try:
                for f in source.flows(fp):
                    count += 1
                    index += 1
                    if isinstance(f, dict):  # an entry to a host the engine ignores: its row, and nothing else
                        knowledge.lineage.flows += 1  # flow numbers stay those of a full reading
                        if json_rows is not None:
                            json_rows.add(_entry_row(index, f))
                        elif show_all:
                            rows.append(_entry_row(index, f))
                        tick()
                        continue
                    diagnosis = observe_flow(f, knowledge, credentials_stripped=source.stripped)
                    if diagnosis is not None:
                        annotate(f, diagnosis)  # our copy, read from a file: the same annotation the live addon makes
                        if diagnosis.cause:
                            if bundles is not None:
                                bundles.write(f, index)
                            if not as_json:
                                diagnosed.append(diagnosis)
                    row = _row(index, f, diagnosis)
                    if json_rows is not None:
                        json_rows.add(row)
                    elif diagnosis is not None or show_all:
                        rows.append(row)
                    if html:
                        seen.append(f)
                    tick()
            except UnreadableFile as e:
                err.print(f"[red]apigw-doctor:[/red] {e}", highlight=False)
                unreadable += 1
                continue
        for line in source.skipped:
            err.print(f"[yellow]apigw-doctor: {name}: {line}[/yellow]", highlight=False)
        if not as_json:
            skipped = f", {len(source.skipped)} skipped" if source.skipped else ""
            err.print(f"[dim]{name}: {count} HTTP flows{skipped}[/dim]")
            if source.stripped:
                err.print(
                    "[yellow]This HAR holds no Authorization or Cookie header: Chrome's sanitized export drops "
                    "them. Token checks are skipped; export 'with sensitive data' for a full diagnosis.[/yellow]"
                )
    if html:
        from .conversation import flow_fingerprint
        from .report.html import write_report

        report = write_report(seen, html, lambda f: flow_fingerprint(f, knowledge), title=f"apigw-doctor: {files[0]}")
        err.print(f"timeline: {report}")
    if json_rows is not None:
        json_rows.close()
    else:
        _print_report(rows, diagnosed, index)
        for path in bundles.written if bundles else []:
            err.print(f"evidence: {path}")
    return _UNUSABLE if unreadable else 0


def _progress(err: Console, name: str, size: int, position: Callable[[], int]):
    """A rich progress bar on a terminal, for long files; otherwise nothing."""
    if not err.is_terminal or size < _PROGRESS_BYTES:
        return nullcontext(lambda: None)
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    progress = Progress("[dim]{task.description}", BarColumn(), DownloadColumn(), TimeRemainingColumn(), console=err)
    task = progress.add_task(name, total=size)

    class _Bar:
        def __enter__(self):
            progress.start()
            return lambda: progress.update(task, completed=position())

        def __exit__(self, *exc):
            progress.update(task, completed=size)
            progress.stop()

    return _Bar()


def _unwatched_by(knowledge: Knowledge) -> Callable[[dict[str, Any]], bool]:
    """Whether a HAR entry goes to a host no check applies to (the engine would return at once for its flow)."""
    match = knowledge.hosts.match

    def unwatched(entry: dict[str, Any]) -> bool:
        request = entry["request"]
        names = []
        for header in request["headers"]:
            name = header.get("name", "").lower() if isinstance(header, dict) else ""
            if name in ("host", ":authority"):
                names.append(str(header.get("value", "")))
            elif name == "x-amz-target":
                return False  # a Cognito API call is recognised on any host
        host = urlsplit(str(request["url"])).netloc.rpartition("@")[2]
        return not any(match(n) for n in (host, *names) if n)

    return unwatched


def _entry_row(index: int, entry: dict[str, Any]) -> dict[str, Any]:
    request, response = entry["request"], entry["response"]
    return {
        "index": index,
        "method": printable(str(request["method"]), one_line=True),
        "url": printable(safe_url(str(request["url"])), one_line=True),
        "status": response.get("status"),
        "target": None,
        "diagnosis": None,
    }


def _row(index: int, f: http.HTTPFlow, diagnosis: Diagnosis | None) -> dict[str, Any]:
    meta = diagnosis.as_metadata() if diagnosis is not None else None
    return {
        "index": index,
        "method": printable(f.request.method, one_line=True),
        "url": printable(safe_url(f.request.pretty_url), one_line=True),
        "status": f.response.status_code if f.response else None,
        "target": meta["target"] if meta else None,
        "diagnosis": meta,
    }


def _print_report(rows: list[dict[str, Any]], diagnosed: list[Diagnosis], read: int) -> None:
    terminal = Console(highlight=False)
    # Not a terminal (a pipe, a file): no 80-column wrap and no cut URLs; lines as long as they need to be.
    out = terminal if terminal.is_terminal else Console(highlight=False, width=100_000, soft_wrap=True)
    if not read:
        out.print("No HTTP flows were read.")
        return
    table = Table(title="Flows", title_justify="left")
    for column in ("#", "status", "method", "url", "verdict", "confidence"):
        table.add_column(column, overflow="fold", no_wrap=not terminal.is_terminal)
    for row in rows:
        meta = row["diagnosis"]
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
    for diagnosis in diagnosed:
        out.print()
        out.print(verdict_renderable(diagnosis))
