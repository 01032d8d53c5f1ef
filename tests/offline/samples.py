"""Browser-shaped HAR documents built from real (captured) mitmproxy flows.

Each builder keeps the wire content of the flow (request and response headers, bodies, the gateway's `Date`
header, timings) and wraps it the way that browser's network panel exports it:

- Chrome / Edge (`creator.name == "WebInspector"`): HTTP/2 with lower-case header names and the `:authority`,
  `:method`, `:path`, `:scheme` pseudo-headers first, `cookies` arrays, `_initiator`, `_priority`, `_resourceType`,
  `_transferSize`, `_error`, `serverIPAddress`, `connection`.
- Chrome's sanitized export (its default since Chrome 130): the same, without `Authorization`, `Cookie` and
  `Set-Cookie` headers and without the cookie arrays.
- Firefox (`creator.name == "Firefox"`): `browser`, `pages` with `pageref`, `_securityState`, `HTTP/2`,
  header names as sent.
- Safari (`creator.name == "WebKit Web Inspector"`): `_fetchType`, `_priority`, `pageref`, `HTTP/2`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from mitmproxy import http

FLAVORS = ("chrome", "chrome-sanitized", "firefox", "safari")
SANITIZED_HEADERS = frozenset({"authorization", "cookie", "set-cookie"})

_CREATORS = {
    "chrome": {"name": "WebInspector", "version": "537.36"},
    "chrome-sanitized": {"name": "WebInspector", "version": "537.36"},
    "firefox": {"name": "Firefox", "version": "131.0"},
    "safari": {"name": "WebKit Web Inspector", "version": "20619.1.26.31.7"},
}


def _iso(ts: float, flavor: str) -> str:
    """startedDateTime as each browser writes it: Chrome/Safari in UTC with `Z`, Firefox with a local offset."""
    if flavor == "firefox":
        local = timezone(timedelta(hours=2))  # an offset other than UTC: the reader must honour it
        return datetime.fromtimestamp(ts, local).isoformat(timespec="milliseconds")
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text(message: http.Message) -> str:
    content = message.get_content(strict=False) or b""
    return content.decode("utf-8", "surrogateescape")


def _headers(fields: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in fields]


def _fields(headers: http.Headers) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("utf-8", "surrogateescape")) for k, v in headers.fields]


def _request_cookies(headers: http.Headers) -> list[dict[str, Any]]:
    cookies = []
    for value in headers.get_all("cookie"):
        for part in value.split(";"):
            name, sep, val = part.strip().partition("=")
            if sep:
                cookies.append({"name": name, "value": val, "path": "/", "domain": "", "expires": None,
                                "httpOnly": False, "secure": False})  # fmt: skip
    return cookies


def _response_cookies(headers: http.Headers) -> list[dict[str, Any]]:
    cookies = []
    for value in headers.get_all("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(value)
        for morsel in jar.values():
            cookies.append({"name": morsel.key, "value": morsel.value, "path": morsel["path"] or "/",
                            "domain": morsel["domain"], "expires": None, "httpOnly": bool(morsel["httponly"]),
                            "secure": bool(morsel["secure"]), "sameSite": "Lax"})  # fmt: skip
    return cookies


def _timings(f: http.HTTPFlow) -> tuple[float, dict[str, float]]:
    req, resp = f.request, f.response
    assert resp is not None
    start = req.timestamp_start
    send = max(0.0, ((req.timestamp_end or start) - start) * 1000)
    wait = max(0.0, ((resp.timestamp_start or start) - (req.timestamp_end or start)) * 1000)
    receive = max(0.0, ((resp.timestamp_end or resp.timestamp_start or start) - (resp.timestamp_start or start)) * 1000)
    timings = {"blocked": 0.4, "dns": -1, "connect": -1, "ssl": -1, "send": send, "wait": wait, "receive": receive}
    return send + wait + receive + 0.4, timings


def _mime(headers: http.Headers) -> str:
    return headers.get("content-type", "") or "x-unknown"


def entry(f: http.HTTPFlow, flavor: str, number: int) -> dict[str, Any]:
    """One HAR entry for `f` shaped like `flavor`'s export."""
    req, resp = f.request, f.response
    assert resp is not None, "only flows with a response are exported"
    url = req.pretty_url
    parts = urlsplit(url)
    chrome = flavor.startswith("chrome")
    sanitized = flavor == "chrome-sanitized"
    req_fields = _fields(req.headers)
    resp_fields = _fields(resp.headers)
    if chrome:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        pseudo = [(":authority", req.pretty_host), (":method", req.method), (":path", path), (":scheme", parts.scheme)]
        req_fields = pseudo + [(k.lower(), v) for k, v in req_fields if k.lower() != "host"]
        resp_fields = [(k.lower(), v) for k, v in resp_fields]
    if sanitized:
        req_fields = [(k, v) for k, v in req_fields if k.lower() not in SANITIZED_HEADERS]
        resp_fields = [(k, v) for k, v in resp_fields if k.lower() not in SANITIZED_HEADERS]
    version = {"chrome": "http/2.0", "chrome-sanitized": "http/2.0"}.get(flavor, "HTTP/2")
    body = _text(req)
    resp_text = _text(resp)
    total, timings = _timings(f)
    request: dict[str, Any] = {
        "method": req.method,
        "url": url,
        "httpVersion": version,
        "headers": _headers(req_fields),
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(parts.query, keep_blank_values=True)],
        "cookies": [] if sanitized else _request_cookies(req.headers),
        "headersSize": -1,
        "bodySize": len(req.raw_content or b""),
    }
    if body or req.method in ("POST", "PUT", "PATCH"):
        post: dict[str, Any] = {"mimeType": req.headers.get("content-type", ""), "text": body}
        if req.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            post["params"] = [{"name": k, "value": v} for k, v in parse_qsl(body, keep_blank_values=True)]
        request["postData"] = post
    response: dict[str, Any] = {
        "status": resp.status_code,
        "statusText": "" if chrome else resp.reason,
        "httpVersion": version,
        "headers": _headers(resp_fields),
        "cookies": [] if sanitized else _response_cookies(resp.headers),
        "content": {"size": len(resp_text.encode()), "mimeType": _mime(resp.headers), "text": resp_text},
        "redirectURL": resp.headers.get("location", ""),
        "headersSize": -1,
        "bodySize": len(resp.raw_content or b""),
    }
    e: dict[str, Any] = {
        "startedDateTime": _iso(req.timestamp_start, flavor),
        "time": total,
        "request": request,
        "response": response,
        "cache": {},
        "timings": timings,
    }
    if chrome:
        e["_initiator"] = {"type": "script", "stack": {"callFrames": [
            {"functionName": "fetchItems", "scriptId": "42", "url": "https://app.example.com/static/js/main.js",
             "lineNumber": 1, "columnNumber": 2045}]}}  # fmt: skip
        e["_priority"] = "High"
        e["_resourceType"] = "preflight" if req.method == "OPTIONS" else "fetch"
        e["connection"] = str(443_000 + number)
        e["serverIPAddress"] = "52.84.12.34"
        e["pageref"] = "page_1"
        response["_transferSize"] = len(resp.raw_content or b"") + 300
        response["_error"] = None
        response["_fetchedViaServiceWorker"] = False
    elif flavor == "firefox":
        e["pageref"] = "page_1"
        e["_securityState"] = "secure"
        e["serverIPAddress"] = "52.84.12.34"
        e["connection"] = "443"
    elif flavor == "safari":
        e["pageref"] = "page_0"
        e["_fetchType"] = "Network Load"
        e["_priority"] = "high"
        e["serverIPAddress"] = "52.84.12.34"
        e["connection"] = str(number)
    return e


def build_har(flows: list[http.HTTPFlow], flavor: str) -> dict[str, Any]:
    if flavor not in FLAVORS:
        raise ValueError(f"unknown flavor {flavor!r}")
    first = min(f.request.timestamp_start for f in flows)
    page_id = "page_0" if flavor == "safari" else "page_1"
    log: dict[str, Any] = {
        "version": "1.2",
        "creator": dict(_CREATORS[flavor]),
        "pages": [
            {
                "startedDateTime": _iso(first, flavor),
                "id": page_id,
                "title": "https://app.example.com/",
                "pageTimings": {"onContentLoad": 120.5, "onLoad": 240.1},
            }
        ],
        "entries": [entry(f, flavor, i) for i, f in enumerate(flows)],
    }
    if flavor == "firefox":
        log["browser"] = {"name": "Firefox", "version": "131.0"}
    return {"log": log}


def write_har(flows: list[http.HTTPFlow], flavor: str, path: Path) -> Path:
    path.write_text(json.dumps(build_har(flows, flavor), indent=2, ensure_ascii=False), encoding="utf-8")
    return path
