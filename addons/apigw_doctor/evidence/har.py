"""A redacted HAR 1.2 of flows, with each flow's verdict in `entry.comment` and a sanitized-by `log.comment`."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from mitmproxy import flow as mflow
from mitmproxy import http, version
from mitmproxy.addons.savehar import SaveHar

from .. import safejson
from ..bounds import MAX_STRING, bound_text
from . import redact
from .redact import METADATA_KEY, Redacted, redact_flow, redact_shapes, redact_value, sanitized_by


@functools.cache
def tool_version() -> str:
    try:
        return importlib_metadata.version("apigw-doctor")
    except importlib_metadata.PackageNotFoundError:
        return "0+unknown"


def verdict_comment(diagnosis: Mapping[str, Any] | None, status: int | None = None) -> str:
    """One line for a HAR entry: `HTTP 401 token-expired: <title>. <summary>`.

    The tool's own words, from a verdict whose wire-derived parts were scrubbed by the engine: not redacted again
    (redaction would take `secret-hash: SecretHash` for a secret).
    """
    if not diagnosis:
        return ""
    head = f"HTTP {status} " if status else ""
    cause = diagnosis.get("cause")
    if cause:
        text = f"{head}{cause}: {diagnosis.get('title') or ''}".rstrip(": ")
        summary = diagnosis.get("summary")
        if summary:
            text += f". {summary}" if not text.endswith(".") else f" {summary}"
    else:
        warnings = ", ".join(str(w) for w in diagnosis.get("warnings") or [])
        text = f"{head}passed; warnings: {warnings}" if warnings else f"{head}no failure diagnosed"
    return redact_shapes(bound_text(text, MAX_STRING))


def har_entry(r: Redacted, servers_seen: set | None = None) -> dict[str, Any]:
    """One HAR entry from a redacted copy, proven writable as UTF-8 JSON; raises if this flow cannot be laid out."""
    entry = SaveHar().flow_entry(r.flow, servers_seen if servers_seen is not None else set())
    # Belt and braces: a second pass over what savehar laid out (cookies, postData params), with the export's tag
    # key; idempotent on what is already redacted. The comment is ours and goes in after it.
    entry = redact_value(entry, r.key)
    status = r.flow.response.status_code if r.flow.response else None
    comment = verdict_comment(r.flow.metadata.get(METADATA_KEY), status)
    if comment:
        entry["comment"] = comment
    try:
        json.dumps(entry, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # header bytes that are not UTF-8: shown as escapes rather than failing the write
        entry = safejson.clean(entry)
    return entry


def har_document(entries: list[dict[str, Any]], removed: Sequence[str], skipped: Sequence[Skipped] = ()) -> dict:
    comment = sanitized_by(removed)
    if skipped:
        comment += "; " + "; ".join(str(s) for s in skipped)
    return {
        "log": {
            "version": "1.2",
            "creator": {
                "name": "apigw-doctor",
                "version": tool_version(),
                "comment": f"HAR built by mitmproxy {version.VERSION} savehar from redacted copies",
            },
            "pages": [],
            "entries": entries,
            "comment": comment,
        }
    }


def har_from_redacted(redacted: Sequence[Redacted]) -> dict[str, Any]:
    """HAR from already redacted copies (each copy carries only the redacted `apigw_doctor` metadata)."""
    servers_seen: set = set()
    entries = [har_entry(r, servers_seen) for r in redacted]
    return har_document(entries, [line for r in redacted for line in r.removed])


@dataclass(slots=True)
class Skipped:
    """A flow an export left out, and why (one line)."""

    flow_id: str
    reason: str

    def __str__(self) -> str:
        return f"flow {self.flow_id[:8]} skipped: {self.reason}"


@dataclass(slots=True)
class Exported:
    """The flows an export holds, each redacted with its HAR entry, and the flows it had to leave out."""

    redacted: list[Redacted]
    entries: list[dict[str, Any]]
    skipped: list[Skipped]

    def har(self) -> dict[str, Any]:
        return har_document(self.entries, [line for r in self.redacted for line in r.removed], self.skipped)


def redact_each(flows: Iterable[mflow.Flow], *, key: bytes | None = None, personal: bool = False) -> Exported:
    """Redact each HTTP flow on its own: one hostile flow is skipped with its reason, never the whole export."""
    key = key if key is not None else redact.new_key()
    out = Exported([], [], [])
    servers_seen: set = set()
    for f in flows:
        if not isinstance(f, http.HTTPFlow):
            continue
        try:
            r = redact_flow(f, key=key, personal=personal)
            entry = har_entry(r, servers_seen)
        except Exception as e:  # a flow we cannot lay out must not cost the others
            out.skipped.append(Skipped(f.id, f"{type(e).__name__}: {bound_text(str(e), 200, one_line=True)}"))
            continue
        out.redacted.append(r)
        out.entries.append(entry)
    return out


def make_har(flows: Sequence[mflow.Flow], *, personal: bool = False) -> dict[str, Any]:
    """A redacted HAR 1.2 document of the HTTP flows among `flows` (others are skipped, as savehar does)."""
    return redact_each(flows, personal=personal).har()


def dump_har(har: Mapping[str, Any]) -> str:
    return json.dumps(har, indent=2, ensure_ascii=False) + "\n"


def write_har(flows: Sequence[mflow.Flow], path: str | Path, *, personal: bool = False) -> tuple[Path, list[Skipped]]:
    """Write a redacted HAR to `path` (replacing it, like mitmproxy's `save.har`); returns the path and the flows
    that had to be left out."""
    target = Path(path).expanduser()
    exported = redact_each(flows, personal=personal)
    write_atomically(target, dump_har(exported.har()))
    return target, exported.skipped


def write_atomically(target: Path, text: str) -> None:
    """Write to a new temporary file beside `target`, then rename it over `target`.

    A failure (a full disk) leaves the old file as it was, never a half-written one; and a symlink planted at the
    target is replaced, not followed (rename replaces the link itself).
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fp:
            fp.write(text)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
