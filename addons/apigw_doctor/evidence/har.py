"""A redacted HAR 1.2 of flows, with each flow's verdict in `entry.comment` and a sanitized-by `log.comment`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from mitmproxy import flow as mflow
from mitmproxy import http, version
from mitmproxy.addons.savehar import SaveHar

from .redact import METADATA_KEY, Redacted, redact_flow, redact_text, redact_value, sanitized_by


def tool_version() -> str:
    try:
        return importlib_metadata.version("apigw-doctor")
    except importlib_metadata.PackageNotFoundError:
        return "0+unknown"


def verdict_comment(diagnosis: Mapping[str, Any] | None, status: int | None = None) -> str:
    """One line for a HAR entry: `HTTP 401 token-expired: <title>. <summary>`."""
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
    return redact_text(text)


def har_from_redacted(redacted: Sequence[Redacted]) -> dict[str, Any]:
    """HAR from already redacted copies (each copy carries only the redacted `apigw_doctor` metadata)."""
    har = SaveHar().make_har([r.flow for r in redacted])
    for entry, r in zip(har["log"]["entries"], redacted, strict=True):
        status = r.flow.response.status_code if r.flow.response else None
        comment = verdict_comment(r.flow.metadata.get(METADATA_KEY), status)
        if comment:
            entry["comment"] = comment
    removed = [line for r in redacted for line in r.removed]
    log = har["log"]
    log["creator"] = {
        "name": "apigw-doctor",
        "version": tool_version(),
        "comment": f"HAR built by mitmproxy {version.VERSION} savehar from redacted copies",
    }
    log["comment"] = sanitized_by(removed)
    # Belt and braces: a second pass over the finished document; idempotent on what is already redacted.
    return redact_value(har)


def make_har(flows: Sequence[mflow.Flow]) -> dict[str, Any]:
    """A redacted HAR 1.2 document of the HTTP flows among `flows` (others are skipped, as savehar does)."""
    return har_from_redacted([redact_flow(f) for f in flows if isinstance(f, http.HTTPFlow)])


def dump_har(har: Mapping[str, Any]) -> str:
    return json.dumps(har, indent=2, ensure_ascii=False) + "\n"


def write_har(flows: Sequence[mflow.Flow], path: str | Path) -> Path:
    """Write a redacted HAR to `path` (replacing it, like mitmproxy's `save.har`); returns the path."""
    target = Path(path).expanduser()
    target.write_text(dump_har(make_har(flows)), encoding="utf-8")
    return target
