"""The evidence bundle: `report.md`, `report.json` and `flows.har` for one diagnosed flow, all redacted.

One flow: `write_bundle(flow, parent)` makes `parent/<UTC request time>-<status>-<cause>-<flow id[:8]>/`.
Many flows: `write_bundles(flows, parent)` makes `parent/<UTC export time>-evidence-<n>-flows/` holding one bundle
directory per flow (as above), an `index.md` table linking them, `index.json`, and one combined `flows.har`.
Nothing is ever overwritten: a name that exists gets `-2`, `-3`, ... and files are created exclusively. A bundle is
written into a hidden temporary directory and renamed into place once complete, so a full disk leaves either the
whole bundle or nothing. Each flow is redacted once; the report is laid out from the redacted copy.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mitmproxy import flow as mflow
from mitmproxy import http

from ..reading import gateway_date
from ..timefmt import ago, utc
from . import redact
from .aws_hints import AwsHints, aws_hints, request_ids_from_headers, token_claims
from .har import Skipped, dump_har, har_document, har_entry, tool_version
from .redact import METADATA_KEY, Redacted, redact_flow, sanitized_by

REPORT_FORMAT = "apigw-doctor-evidence/1"
BODY_LIMIT = 16 * 1024  # characters of each body kept in the report; the HAR has the whole (redacted) body
_TIME_CLAIMS = ("iat", "auth_time", "nbf", "exp")


@dataclass(frozen=True, slots=True)
class Bundle:
    """One flow's evidence, built in memory; `write_bundle` puts it on disk."""

    name: str
    markdown: str
    report: dict[str, Any]
    redacted: Redacted
    entry: dict[str, Any]  # the flow's HAR entry
    html: str = ""  # report.html: the flow's token timeline (report/html.py), from the redacted copy

    @property
    def har(self) -> dict[str, Any]:
        return har_document([self.entry], self.redacted.removed)


def bundle_name(flow: http.HTTPFlow) -> str:
    """`<UTC request time>-<status>-<cause>-<short flow id>`, safe as a directory name."""
    stamp = datetime.fromtimestamp(flow.request.timestamp_start, UTC).strftime("%Y%m%dT%H%M%SZ")
    status = str(flow.response.status_code) if flow.response else "error"
    meta = flow.metadata.get(METADATA_KEY) or {}
    cause = meta.get("cause") or ("warnings" if meta.get("warnings") else "none")
    return f"{stamp}-{status}-{_slug(str(cause))}-{_slug(flow.id[:8])}"


def _no_pause() -> None:
    pass


def build_bundle(
    flow: http.HTTPFlow, *, key: bytes | None = None, personal: bool = False, pause: Callable[[], None] = _no_pause
) -> Bundle:
    """Redact `flow` (a copy; the flow itself is untouched) and lay out its report from the redacted copy.

    `pause` is called between the steps: a worker thread uses it to let the event loop have the interpreter lock.
    """
    redacted = redact_flow(flow, key=key, personal=personal)
    pause()
    c = redacted.flow
    meta = c.metadata.get(METADATA_KEY) or {}
    ids = request_ids_from_headers(c.response.headers) if c.response else {}
    hints = aws_hints(
        meta,
        ids,
        request_time=c.request.timestamp_start,
        method=c.request.method,
        path=c.request.path,
        client_id=_client_id(c),
    )
    pause()
    timeline = _timeline(c, meta)
    report = {
        "format": REPORT_FORMAT,
        "generator": f"apigw-doctor {tool_version()}",
        "generated_at": utc(time.time()),
        "flow_id": flow.id,
        "status": c.response.status_code if c.response else None,
        "diagnosis": meta or None,
        "timeline": timeline,
        "request": _request_summary(c.request),
        "response": _response_summary(c.response) if c.response else None,
        "error": c.error.msg if c.error else None,
        "aws": hints.as_dict(),
    }
    # Everything above comes from the redacted copy and its redacted verdict: no second pass, which would also
    # rewrite the tool's own words. The removal list is ours and goes in last.
    report = {**report, "sanitized_by": sanitized_by(redacted.removed), "removed": list(redacted.removed)}
    markdown = _markdown(c, meta, timeline, hints) + _footer(redacted.removed)
    pause()
    entry = har_entry(redacted)
    pause()
    return Bundle(bundle_name(flow), markdown, report, redacted, entry, _html(c, bundle_name(flow)))


def write_bundle(
    flow: http.HTTPFlow, directory: str | Path, *, personal: bool = False, pause: Callable[[], None] = _no_pause
) -> Path:
    """Write one flow's bundle under `directory` (created if needed); returns the new bundle directory."""
    bundle = build_bundle(flow, personal=personal, pause=pause)
    pause()
    return _write(bundle, Path(directory).expanduser())


@dataclass(frozen=True, slots=True)
class Written:
    """What `write_bundles` wrote, and the flows it had to leave out (each with one line saying why)."""

    root: Path
    count: int
    skipped: tuple[Skipped, ...]


def write_bundles(flows: Sequence[mflow.Flow], directory: str | Path, *, personal: bool = False) -> Written:
    """Write the bundles of the HTTP flows among `flows` into one new directory.

    Each flow is laid out on its own; one that cannot be is skipped with its reason, never the whole export.
    """
    key = redact.new_key()  # one export, one tag key: a token has one tag across its flows
    bundles: list[Bundle] = []
    skipped: list[Skipped] = []
    for f in flows:
        if not isinstance(f, http.HTTPFlow):
            continue
        try:
            bundles.append(build_bundle(f, key=key, personal=personal))
        except Exception as e:  # one hostile flow must not cost the others
            skipped.append(Skipped(f.id, f"{type(e).__name__}: {str(e)[:200]}".replace("\n", " ")))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    root = _new_dir(Path(directory).expanduser(), f"{stamp}-evidence-{len(bundles)}-flows")
    rows = []
    for b in bundles:
        path = _write(b, root)
        rows.append((b, path.name))
    removed_all = [line for b in bundles for line in b.redacted.removed]
    _write_text(root / "flows.har", dump_har(har_document([b.entry for b in bundles], removed_all, skipped)))
    index = [
        {
            "dir": name,
            "flow_id": b.report["flow_id"],
            "status": b.report["status"],
            "method": b.report["request"]["method"],
            "url": b.report["request"]["url"],
            "cause": (b.report["diagnosis"] or {}).get("cause"),
            "title": (b.report["diagnosis"] or {}).get("title"),
        }
        for b, name in rows
    ]
    skipped_lines = [str(s) for s in skipped]
    document = {"sanitized_by": sanitized_by(removed_all), "flows": index, "skipped": skipped_lines}
    _write_text(root / "index.json", json.dumps(document, indent=2))
    _write_text(root / "index.md", _index_markdown(index, skipped_lines) + _footer(removed_all))
    return Written(root, len(bundles), tuple(skipped))


# --- writing ---------------------------------------------------------------------------------------------------


def bundle_files(bundle: Bundle) -> dict[str, str]:
    return {
        "report.md": bundle.markdown,
        "report.html": bundle.html,
        "report.json": json.dumps(bundle.report, indent=2, ensure_ascii=False) + "\n",
        "flows.har": dump_har(bundle.har),
    }


def _write(bundle: Bundle, parent: Path) -> Path:
    """All of the bundle or nothing: written into a hidden temporary directory, then renamed into place."""
    return write_dir(parent, bundle.name, bundle_files(bundle))


def write_dir(parent: Path, name: str, files: dict[str, str]) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=parent))
    try:
        for filename, text in files.items():
            _write_text(tmp / filename, text)
        for n in range(1, 1000):
            path = parent / (name if n == 1 else f"{name}-{n}")
            if os.path.lexists(path):  # never replace (rename would replace an empty directory) or follow a link
                continue
            os.rename(tmp, path)
            return path
        raise FileExistsError(f"no free bundle name for {name} in {parent}")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _html(flow: http.HTTPFlow, name: str) -> str:
    """The one flow's timeline (`flow` is the redacted copy); its token's lineage comes from the verdict's
    `lineage` metadata."""
    from ..report.html import render_timeline
    from ..report.timeline import collect

    def fingerprint_of(f: http.HTTPFlow) -> str | None:
        token = (f.metadata.get(METADATA_KEY) or {}).get("token")
        return token.get("fingerprint") if isinstance(token, Mapping) else None

    linked = (flow.metadata.get(METADATA_KEY) or {}).get("lineage")
    number = linked.get("flow") if isinstance(linked, Mapping) else None
    first = number if isinstance(number, int) and number > 0 else 1
    return render_timeline(collect([flow], fingerprint_of, first), f"apigw-doctor evidence: {name}")


def _new_dir(parent: Path, name: str) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        path = parent / (name if n == 1 else f"{name}-{n}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"no free bundle name for {name} in {parent}")


def _write_text(path: Path, text: str) -> None:
    # "x": never replace a file. Lone surrogates (header bytes that were not UTF-8) are written as escapes.
    with path.open("x", encoding="utf-8", errors="backslashreplace") as fp:
        fp.write(text)


def tree_size(path: Path) -> int:
    """Bytes held by the files under `path` (for the evidence size cap)."""
    total = 0
    with contextlib.suppress(OSError):
        for root, _dirs, files in os.walk(path):
            for name in files:
                with contextlib.suppress(OSError):
                    total += os.lstat(os.path.join(root, name)).st_size
    return total


# --- report content --------------------------------------------------------------------------------------------


def _slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "none"


def _number(value: Any) -> float | None:
    """A claim time: an int, or a string of digits as HTTP API passes claims on."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    return None


def _timeline(c: http.HTTPFlow, meta: Mapping[str, Any]) -> dict[str, Any]:
    """UTC times of the request, the reply and the token, measured against the gateway's clock."""
    gateway = gateway_date(c.response)
    received = c.response.timestamp_start if c.response else None
    now = gateway if gateway is not None else (received or c.request.timestamp_start)
    events: list[dict[str, Any]] = [
        {"event": "request sent (local clock)", "epoch": c.request.timestamp_start},
    ]
    if received is not None:
        events.append({"event": "response received (local clock)", "epoch": received})
    if gateway is not None:
        events.append({"event": "gateway Date header", "epoch": gateway})
    claims = token_claims(meta)
    for claim in _TIME_CLAIMS:
        epoch = _number(claims.get(claim))
        if epoch is not None:
            events.append({"event": f"token {claim}", "epoch": epoch, "vs_now_seconds": round(epoch - now, 3)})
    for e in events:
        e["utc"] = utc(e["epoch"])
    offset = round(received - gateway, 3) if gateway is not None and received is not None else None
    return {
        "now": {"epoch": now, "utc": utc(now), "source": "gateway Date" if gateway is not None else "flow timestamp"},
        "events": events,
        "local_clock_offset_seconds": offset,
    }


def _offset_line(offset: float | None) -> str:
    if offset is None:
        return "Local vs gateway clock: unknown (no `Date` header in the response)."
    if abs(offset) < 2:
        return f"Local vs gateway clock: in step ({offset:+.1f} s; the `Date` header has 1-second resolution)."
    side = "ahead of" if offset > 0 else "behind"
    return f"Local vs gateway clock: your clock was {ago(offset)} {side} the gateway's ({offset:+.1f} s)."


def _client_id(c: http.HTTPFlow) -> str | None:
    """The app client a Cognito sign-in names (JSON `ClientId` or form `client_id`); not a secret."""
    text = c.request.get_text(strict=False) or ""
    match = re.search(r'"ClientId"\s*:\s*"([\w-]{1,128})"', text) or re.search(r"(?:^|&)client_id=([\w-]{1,128})", text)
    return match.group(1) if match else None


def _headers(headers: http.Headers) -> list[list[str]]:
    return [[k, v] for k, v in headers.items(multi=True)]


def _body(message: http.Message) -> dict[str, Any]:
    text = message.get_text(strict=False)
    if text is None:
        return {"text": None, "truncated": False, "size": 0}
    return {"text": text[:BODY_LIMIT], "truncated": len(text) > BODY_LIMIT, "size": len(text)}


def _request_summary(request: http.Request) -> dict[str, Any]:
    return {
        "method": request.method,
        "url": request.pretty_url,
        "http_version": request.http_version,
        "timestamp_start": request.timestamp_start,
        "headers": _headers(request.headers),
        "body": _body(request),
    }


def _response_summary(response: http.Response) -> dict[str, Any]:
    return {
        "status_code": response.status_code,
        "reason": response.reason,
        "http_version": response.http_version,
        "timestamp_start": response.timestamp_start,
        "headers": _headers(response.headers),
        "body": _body(response),
    }


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _fence(text: str, lang: str = "") -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def _message_block(first_line: str, message: http.Message) -> str:
    lines = [first_line, *(f"{k}: {v}" for k, v in message.headers.items(multi=True))]
    body = _body(message)
    if body["text"]:
        lines += ["", body["text"]]
        if body["truncated"]:
            lines.append(f"[... {body['size'] - BODY_LIMIT} more characters in flows.har]")
    return _fence("\n".join(lines), "http")


def _markdown(c: http.HTTPFlow, meta: Mapping[str, Any], timeline: Mapping[str, Any], hints: AwsHints) -> str:
    out: list[str] = []
    status = c.response.status_code if c.response else None
    title = meta.get("title") or ("No failure diagnosed" if meta else "Not diagnosed by apigw-doctor")
    out.append(f"# {title}")
    head = [f"**HTTP {status}**" if status else "**no response**", f"`{c.request.method} {c.request.pretty_url}`"]
    if meta.get("cause"):
        head.append(f"cause `{meta['cause']}` (confidence {meta.get('confidence') or 'unknown'})")
    out += ["", " · ".join(head)]
    if meta.get("summary"):
        out += ["", str(meta["summary"])]
    if c.error:
        out += ["", f"Transport error: {c.error.msg}"]

    if meta.get("fix"):
        out += ["", "## Fix", ""] + [f"{i}. {step}" for i, step in enumerate(meta["fix"], 1)]
    if meta.get("evidence"):
        out += ["", "## Evidence", ""] + [f"- {line}" for line in meta["evidence"]]
    if meta.get("warnings"):
        out += ["", "## Warnings", ""] + [f"- `{w}`" for w in meta["warnings"]]

    out += ["", "## Timeline (UTC)", "", "| event | time (UTC) | vs gateway clock |", "|---|---|---|"]
    for e in timeline["events"]:
        vs = e.get("vs_now_seconds")
        rel = "" if vs is None else (f"{ago(vs)} before" if vs < 0 else f"{ago(vs)} after" if vs > 0 else "same second")
        out.append(f"| {_cell(e['event'])} | {e['utc']} | {rel} |")
    out += ["", f'"Now" for this flow: {timeline["now"]["utc"]} ({timeline["now"]["source"]}).', ""]
    out.append(_offset_line(timeline["local_clock_offset_seconds"]))

    target = meta.get("target") or {}
    out += ["", "## Target", "", "| field | value |", "|---|---|"]
    out.append(f"| host | {_cell(c.request.pretty_host)} |")
    for key in ("surface", "api_id", "region", "stage"):
        out.append(f"| {key} | {_cell(target.get(key))} |")
    out.append(f"| method | {_cell(c.request.method)} |")
    out.append(f"| path | {_cell(c.request.path)} |")

    token = meta.get("token")
    if isinstance(token, Mapping):
        out += ["", "## Token (decoded; signature removed)", ""]
        if token.get("fingerprint"):
            fp = token["fingerprint"]
            out.append(
                f"Fingerprint: `{fp}` (the token reads `...REDACTED-SIG-{fp}` or `REDACTED-JWE-{fp}` in flows.har)"
            )
            out.append("")
        if isinstance(token.get("header"), Mapping):
            out += ["Header:", "", _fence(json.dumps(token["header"], indent=2, ensure_ascii=False), "json"), ""]
        claims = token_claims(meta)
        out += ["Claims:", "", _fence(json.dumps(claims, indent=2, ensure_ascii=False), "json")]

    checks = meta.get("checks") or []
    if checks:
        out += [
            "",
            "## Check chain",
            "",
            "| # | check | result | expected | actual | note |",
            "|---|---|---|---|---|---|",
        ]
        for i, check in enumerate(checks, 1):
            cells = [_cell(check.get(k)) for k in ("id", "result", "expected", "actual", "note")]
            out.append(f"| {i} | " + " | ".join(cells) + " |")

    out += ["", "## AWS request ids", ""]
    if hints.request_ids:
        out += ["| header | value |", "|---|---|"] + [f"| {k} | `{_cell(v)}` |" for k, v in hints.request_ids.items()]
    else:
        out.append("None in the response.")

    out += ["", "## Server-side logs", ""]
    if hints.log_groups:
        out += ["Log groups:", ""] + [f"- `{g}`" for g in hints.log_groups]
    if hints.insights_query:
        out += ["", "CloudWatch Logs Insights query for this request:", "", _fence(hints.insights_query)]
    if hints.access_log_format:
        out += [
            "",
            "Recommended access-log format (records the authorizer's own error, which the client never sees):",
            "",
            _fence(json.dumps(hints.access_log_format, indent=2), "json"),
        ]
    for note in hints.notes:
        out += ["", f"> {note}"]

    if hints.commands:
        out += ["", "## Commands", ""]
        for cmd in hints.commands:
            out += [f"{cmd.purpose}:", "", _fence(cmd.command, "sh"), ""]

    out += ["", "## Request (redacted)", ""]
    request_line = f"{c.request.method} {c.request.path} {c.request.http_version}"
    out.append(_message_block(request_line, c.request))
    if c.response:
        out += ["", "## Response (redacted)", ""]
        response_line = f"{c.response.http_version} {c.response.status_code} {c.response.reason}"
        out.append(_message_block(response_line, c.response))
    return "\n".join(out) + "\n"


def _footer(removed: list[str]) -> str:
    out = ["", "---", "", sanitized_by(removed)]
    if removed:
        out += ["", "Removed:", ""] + [f"- {line}" for line in removed]
    return "\n".join(out) + "\n"


def _index_markdown(index: list[dict[str, Any]], skipped: Sequence[str] = ()) -> str:
    out = [
        "# apigw-doctor evidence",
        "",
        f"{len(index)} flow(s). Each directory holds report.md, report.json and flows.har; "
        "flows.har here holds all of them.",
        "",
        "| # | status | request | cause | title | bundle |",
        "|---|---|---|---|---|---|",
    ]
    for i, row in enumerate(index, 1):
        request = f"{row['method']} {row['url']}"
        link = f"[{row['dir']}]({row['dir']}/report.md)"
        cells = [_cell(row["status"]), _cell(request), _cell(row["cause"]), _cell(row["title"]), link]
        out.append(f"| {i} | " + " | ".join(cells) + " |")
    if skipped:
        out += ["", "Skipped:", ""] + [f"- {_cell(line)}" for line in skipped]
    return "\n".join(out) + "\n"
