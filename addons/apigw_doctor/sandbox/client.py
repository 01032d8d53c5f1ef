"""httpx clients that reach the sandbox under the AWS host names, directly or through mitmproxy."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx


class DirectTransport(httpx.HTTPTransport):
    """Sends every request to 127.0.0.1:<port>, keeping the URL's host for the Host header and TLS SNI."""

    def __init__(self, port: int, *, verify: ssl.SSLContext) -> None:
        super().__init__(verify=verify)
        self._port = port

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        request.url = request.url.copy_with(host="127.0.0.1", port=self._port)
        request.extensions = {**request.extensions, "sni_hostname": host}
        request.headers["Host"] = host  # the Host header was already set from the original URL; keep it
        return super().handle_request(request)


def direct_client(port: int, ca: str | Path, *, timeout: float = 10) -> httpx.Client:
    ctx = ssl.create_default_context(cafile=str(ca))
    return httpx.Client(transport=DirectTransport(port, verify=ctx), trust_env=False, timeout=timeout)


def proxied_client(proxy: str, proxy_ca: str | Path | None, *, timeout: float = 10) -> httpx.Client:
    ctx = ssl.create_default_context(cafile=str(proxy_ca) if proxy_ca else None)
    return httpx.Client(proxy=proxy, verify=ctx, trust_env=False, timeout=timeout)
