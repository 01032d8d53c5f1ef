"""Flow builders for the robustness tests (mitmproxy.test style: `tflow` / `tutils`)."""

from __future__ import annotations

import base64
import json
from typing import Any

from mitmproxy import http
from mitmproxy.test import tflow, tutils

REST_HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"
GATEWAY_DATE = "Thu, 26 Nov 2026 22:40:00 GMT"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_jwt(claims: Any, header: Any = None, signature: str = "c2lnbmF0dXJlLW5vdC1jaGVja2Vk") -> str:
    """A JWT-shaped string with any JSON in header and payload (the engine never trusts the signature)."""
    header = {"alg": "RS256", "kid": "k1"} if header is None else header
    return ".".join((b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()), signature))


def flow(
    *,
    host: str = REST_HOST,
    method: str = "GET",
    path: str = "/prod/items",
    request_headers: list[tuple[bytes, bytes]] | None = None,
    request_body: bytes = b"",
    status: int = 401,
    response_headers: list[tuple[bytes, bytes]] | None = None,
    response_body: bytes = b'{"message":"Unauthorized"}',
) -> http.HTTPFlow:
    """An HTTPS flow to `host` with a complete response; headers are raw (name, value) byte pairs."""
    req_headers = http.Headers([(b"host", host.encode("idna")), *(request_headers or [])])
    resp_headers = http.Headers(
        response_headers
        if response_headers is not None
        else [
            (b"date", GATEWAY_DATE.encode()),
            (b"content-type", b"application/json"),
            (b"x-amzn-requestid", b"7e1d1f7e-0000-4000-8000-000000000001"),
            (b"x-amzn-errortype", b"UnauthorizedException"),
        ]
    )
    request = tutils.treq(
        host=host,
        port=443,
        scheme=b"https",
        method=method.encode(),
        path=path.encode("utf-8", "surrogatepass"),
        headers=req_headers,
        content=request_body,
    )
    response = tutils.tresp(
        status_code=status,
        reason=b"",
        headers=resp_headers,
        content=response_body,
    )
    return tflow.tflow(req=request, resp=response)
