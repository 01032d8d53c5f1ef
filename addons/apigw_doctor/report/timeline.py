"""The timeline of a capture: one lane per token, its issue, expiry, refresh and revocation, and every use.

Built from flows in the order they were seen (flow #1 is the first), on the gateway's clock (`Date`, else the
request time shifted by the median client-gateway offset). The result is plain, JSON-safe data: fingerprints,
a few claims and the verdicts already on the flows (which hold no secret), redacted once more before drawing.
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mitmproxy import http

from ..cognito_answers import answer_of_flow
from ..lineage import Lineage
from ..model import METADATA_KEY
from ..reply import http_date
from ..safejson import clean_text
from ..timefmt import ago, clock, utc

MAX_FLOWS = 5000  # drawn; a longer capture keeps its last flows (the report says how many were left out)
MAX_LANES = 40
_TEXT = 400  # characters of each verdict text kept


@dataclass(slots=True)
class FlowRow:
    """One flow as the timeline draws it."""

    number: int
    local: float  # the client's/proxy's clock when the request was sent
    gateway: float | None  # the Date header of the answer
    method: str
    host: str
    path: str
    status: int | None
    fingerprint: str | None
    verdict: Mapping[str, Any] | None  # the flow's metadata verdict (cause, title, summary, ...)
    operation: str | None = None  # Cognito: the issuing or revoking operation
    at: float = 0.0  # set by the builder: the gateway's clock


@dataclass(slots=True)
class Timeline:
    rows: list[FlowRow] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    dropped: int = 0


FingerprintOf = Callable[[http.HTTPFlow], str | None]


def collect(flows: Iterable[http.HTTPFlow], fingerprint_of: FingerprintOf, first_number: int = 1) -> Timeline:
    """Rows and token records for `flows`: lineage is replayed from the flows themselves, numbered in order from
    `first_number` (an evidence bundle's one flow keeps the number the live capture gave it)."""
    lineage = Lineage()
    timeline = Timeline()
    extra: dict[str, dict[str, Any]] = {}
    for number, flow in enumerate(flows, start=first_number):
        if flow.response is None:
            continue
        meta = flow.metadata.get(METADATA_KEY)
        gateway = http_date(flow.response.headers.get("date"))
        at = gateway if gateway is not None else flow.request.timestamp_start
        answer = answer_of_flow(flow)
        if answer is not None:
            lineage.record(answer, number, at)
        linked = meta.get("lineage") if isinstance(meta, Mapping) else None
        tag = fingerprint_of(flow)
        if isinstance(linked, Mapping) and isinstance(linked.get("fingerprint"), str):
            extra.setdefault(linked["fingerprint"], dict(linked))  # lineage the flows here do not show
            tag = tag or linked["fingerprint"]
        timeline.rows.append(
            FlowRow(
                number,
                flow.request.timestamp_start,
                gateway,
                flow.request.method,
                clean_text(flow.request.pretty_host),
                clean_text(flow.request.path.split("?", 1)[0])[:200],
                flow.response.status_code,
                tag,
                meta if isinstance(meta, Mapping) else None,
                answer.operation if answer is not None else None,
            )
        )
        if len(timeline.rows) > MAX_FLOWS:
            timeline.rows.pop(0)
            timeline.dropped += 1
    known = {r.fingerprint: r.as_dict() for r in lineage.records()}
    timeline.records = [*known.values(), *(v for k, v in extra.items() if k not in known)]
    return timeline


def clock_offset(rows: list[FlowRow]) -> float | None:
    """The median of (client clock - gateway Date) over the flows that have a Date, or None."""
    offsets = [r.local - r.gateway for r in rows if r.gateway is not None]
    return statistics.median(offsets) if offsets else None


def layout(timeline: Timeline, *, width: int = 1100, title: str = "apigw-doctor timeline") -> dict[str, Any]:
    """Coordinates and texts for the template: everything the SVG needs, computed here, drawn there."""
    rows = timeline.rows
    offset = clock_offset(rows) or 0.0
    for r in rows:
        r.at = r.local - offset  # the gateway's clock with the sub-second order of the client's
    records = {r["fingerprint"]: _on_row_clock(r, {row.number: row.at for row in rows}) for r in timeline.records}
    used: dict[str, list[FlowRow]] = {}
    for r in rows:
        if r.fingerprint:
            used.setdefault(r.fingerprint, []).append(r)
    lane_keys = [fp for fp in records if fp in used or _lane_worthy(records[fp])]
    lane_keys += [fp for fp in used if fp not in records]
    lane_keys = lane_keys[:MAX_LANES]
    times = [r.at for r in rows] + [t for fp in lane_keys if fp in records for t in _record_times(records[fp])]
    start, end = (min(times), max(times)) if times else (0.0, 1.0)
    if end - start < 1:
        end = start + 1
    pad = (end - start) * 0.04
    start, end = start - pad, end + pad
    left, right = 260, width - 20
    scale = _Scale(sorted({start, end, *times}), start, end)

    def x(t: float) -> float:
        return round(left + scale(min(max(t, start), end)) * (right - left), 1)

    lanes = []
    for index, fp in enumerate(lane_keys):
        record = records.get(fp)
        lane = _lane(index, fp, record, used.get(fp, []), x, start, end, offset)
        lanes.append(lane)
    untokened = [r for r in rows if not r.fingerprint or r.fingerprint not in lane_keys]
    if untokened:
        lanes.append(_lane(len(lanes), None, None, untokened, x, start, end, offset))
    top = 70
    lane_height = 46
    for lane in lanes:
        lane["y"] = top + lane["index"] * lane_height
    height = top + len(lanes) * lane_height + 30
    ticks = [
        {"x": round(left + (right - left) * i / 6, 1), "label": clock(scale.inverse(i / 6)),
         "anchor": "end" if i == 6 else "middle"}
        for i in range(7)
    ]  # fmt: skip
    marked = [r for r in rows if r.verdict and (r.verdict.get("cause") or r.verdict.get("warnings"))]
    return {
        "title": title,
        "width": width,
        "height": height,
        "left": left,
        "right": right,
        "ticks": ticks,
        "lanes": lanes,
        "start": utc(start),
        "end": utc(end),
        "flows": len(rows),
        "dropped": timeline.dropped,
        "offset": _offset_text(offset, rows),
        "details": [_detail(r) for r in marked],
    }


class _Scale:
    """Time to 0..1, half by clock time and half by the order of events: a burst of calls within one second gets
    room to be seen and clicked, an idle hour does not take the whole page. Monotone, so order is kept."""

    def __init__(self, times: list[float], start: float, end: float) -> None:
        self.times, self.start, self.end = times, start, end

    def __call__(self, t: float) -> float:
        linear = (t - self.start) / (self.end - self.start)
        times = self.times
        if len(times) < 2:
            return linear
        i = min(max(bisect.bisect_right(times, t) - 1, 0), len(times) - 2)
        low, high = times[i], times[i + 1]
        within = (t - low) / (high - low) if high > low else 0.0
        return 0.5 * linear + 0.5 * (i + within) / (len(times) - 1)

    def inverse(self, fraction: float) -> float:
        low, high = self.start, self.end
        for _ in range(50):
            mid = (low + high) / 2
            low, high = (mid, high) if self(mid) < fraction else (low, mid)
        return (low + high) / 2


def _on_row_clock(record: Mapping[str, Any], row_at: Mapping[int, float]) -> dict[str, Any]:
    """The record with each event at its flow's drawn time (the Date header alone has one-second resolution)."""
    moved = dict(record)
    for key in ("issued", "replaced_by", "revoked"):
        event = record.get(key)
        if isinstance(event, Mapping) and event.get("flow") in row_at:
            moved[key] = {**event, "at": row_at[event["flow"]]}
    return moved


def _lane_worthy(record: Mapping[str, Any]) -> bool:
    return record.get("kind") in ("id", "access", "aws-credentials", "openid")


def _record_times(record: Mapping[str, Any]) -> list[float]:
    times = [e["at"] for e in (record.get("issued"), record.get("replaced_by"), record.get("revoked")) if e]
    return [float(t) for t in times if isinstance(t, int | float)]


def _lane(
    index: int,
    fp: str | None,
    record: Mapping[str, Any] | None,
    uses: list[FlowRow],
    x: Callable[[float], float],
    start: float,
    end: float,
    offset: float,
) -> dict[str, Any]:
    lane: dict[str, Any] = {"index": index, "fingerprint": fp, "marks": [], "bar": None, "events": []}
    if fp is None:
        lane["label"], lane["sublabel"] = "no token / Cognito calls", ""
    elif record is None:
        lane["label"], lane["sublabel"] = f"token {fp}", "issued before this capture"
    else:
        issued = record.get("issued") or {}
        lane["label"] = f"{record.get('kind')} token {fp}"
        lane["sublabel"] = f"{issued.get('operation')} #{issued.get('flow')}" + (
            f", client {str(record['client'])[:12]}…" if record.get("client") else ""
        )
    first = min((u.at for u in uses), default=None)
    begin = (record or {}).get("issued", {}).get("at") if record else first
    exp = (record or {}).get("exp")
    if fp is not None and begin is not None:
        stop = float(exp) if isinstance(exp, int | float) else end
        lane["bar"] = {
            "x1": x(float(begin)),
            "x2": x(stop),
            "clipped": stop > end,
            "exp": utc(float(exp)) if isinstance(exp, int | float) else None,
            "exp_x": x(float(exp)) if isinstance(exp, int | float) and start <= exp <= end else None,
            "client_exp_x": (
                x(float(exp) - offset)
                if isinstance(exp, int | float) and abs(offset) >= 2 and start <= exp - offset <= end
                else None
            ),
        }
    if record is not None:
        for key, word, css in (("issued", "issued by", "issue"), ("replaced_by", "replaced by", "refresh"),
                               ("revoked", "revoked by", "revoke")):  # fmt: skip
            event = record.get(key)
            if isinstance(event, Mapping) and isinstance(event.get("at"), int | float):
                lane["events"].append(
                    {
                        "x": x(float(event["at"])),
                        "css": css,
                        "flow": event.get("flow"),
                        "label": f"{word} {event.get('operation')} in flow #{event.get('flow')} "
                        f"at {clock(event['at'])}",
                    }
                )
    labelled: set[str] = set()
    for use in uses:
        mark = _mark(use, x)
        mark["label"] = mark["kind"] == "fail" and mark["cause"] not in labelled  # hover shows the others
        labelled.add(mark["cause"])
        lane["marks"].append(mark)
    return lane


def _mark(row: FlowRow, x: Callable[[float], float]) -> dict[str, Any]:
    verdict = row.verdict or {}
    cause = verdict.get("cause")
    warnings = list(verdict.get("warnings") or [])
    failed = bool(cause) or (row.status is not None and row.status >= 400)
    kind = "fail" if failed else ("warn" if warnings else "ok")
    code = cause or (warnings[0] if warnings else "")
    text = f"#{row.number} {clock(row.at)} {row.status} {row.method} {row.host}{row.path}"
    if cause:
        text += f" — {cause}: {verdict.get('title') or ''!s}"
    elif warnings:
        text += " — warning: " + ", ".join(warnings)
    elif row.operation:
        text += f" — {row.operation}"
    return {"x": x(row.at), "kind": kind, "cause": code, "flow": row.number, "text": text[:_TEXT]}


def _detail(row: FlowRow) -> dict[str, Any]:
    verdict = row.verdict or {}
    return {
        "flow": row.number,
        "when": utc(row.at),
        "request": f"{row.method} {row.host}{row.path}",
        "status": row.status,
        "cause": verdict.get("cause"),
        "confidence": verdict.get("confidence"),
        "title": str(verdict.get("title") or "")[:_TEXT],
        "summary": str(verdict.get("summary") or "")[: _TEXT * 2],
        "warnings": list(verdict.get("warnings") or []),
        "evidence": [str(line)[:_TEXT] for line in list(verdict.get("evidence") or [])[:8]],
        "fix": [str(line)[:_TEXT] for line in list(verdict.get("fix") or [])[:4]],
        "fingerprint": row.fingerprint,
    }


def _offset_text(offset: float, rows: list[FlowRow]) -> str | None:
    if not any(r.gateway is not None for r in rows):
        return "no Date header in any answer: times are the client's clock"
    if abs(offset) < 2:
        return None
    side = "ahead of" if offset > 0 else "behind"
    return f"the client's clock is {ago(offset)} {side} the gateway's (median over the answers' Date headers)"
