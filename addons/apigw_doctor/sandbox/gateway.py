"""The sandbox's HTTPS server: dispatches on the Host header to the API Gateway and Cognito surfaces.

It adds no header of its own to any answer (no `Server`, no debugging header). Why it refused a request is kept
in process instead, keyed by the request id the client saw: `Gateway.reason_for(request_id)`.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from . import responses as r
from .apigw import handle_custom_domain, handle_function_url, handle_http, handle_rest
from .cognito import handle_domain, handle_idp
from .config import GatewayConfig
from .identity import handle_identity
from .request import Request
from .responses import Reply
from .tls import CertPaths
from .verify import Refusal

log = logging.getLogger(__name__)

Surface = str  # "rest" | "http" | "lambda-url" | "cognito-oauth" | "cognito-idp" | "cognito-identity" | "unknown"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the sandbox did with one request, and why (`cause` is None when it let the request through)."""

    request_id: str
    surface: Surface
    method: str
    host: str
    path: str
    status: int
    cause: str | None
    check: str = ""
    detail: str = ""
    also: tuple[str, ...] = ()


class Gateway:
    """`start()` binds 127.0.0.1 on `port` (0 = a free one) and serves in a background thread."""

    def __init__(self, config: GatewayConfig, certs: CertPaths, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self.certs = certs
        self._bind = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._outcomes: collections.OrderedDict[str, Outcome] = collections.OrderedDict()
        self._lock = threading.Lock()

    # --- lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> int:
        if self._server is not None:
            return self.port
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(Path(self.certs.cert), Path(self.certs.key))
        ctx.set_alpn_protocols(["http/1.1"])
        server = _Server(self._bind, _Handler)
        server.gateway = self
        server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="apigw-sandbox", daemon=True
        )
        self._thread.start()
        return self.port

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Gateway:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("gateway not started")
        return self._server.server_address[1]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    # --- time and records ----------------------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.config.clock_offset

    def reason_for(self, request_id: str) -> Outcome | None:
        with self._lock:
            return self._outcomes.get(request_id)

    def outcomes(self) -> list[Outcome]:
        with self._lock:
            return list(self._outcomes.values())

    def _record(self, outcome: Outcome) -> None:
        with self._lock:
            self._outcomes[outcome.request_id] = outcome
            while len(self._outcomes) > self.config.max_outcomes:
                self._outcomes.popitem(last=False)

    # --- dispatch ------------------------------------------------------------------------------------------

    def handle(self, req: Request) -> Reply:
        """Answer one request (also usable without the server, e.g. in unit tests)."""
        now = self.now()
        surface, (reply, refusal) = self._dispatch(req, now)
        self._record(
            Outcome(
                request_id=reply.request_id,
                surface=surface,
                method=req.method,
                host=req.host,
                path=req.path,
                status=reply.status,
                cause=refusal.cause if refusal else None,
                check=refusal.check if refusal else "",
                detail=refusal.detail if refusal else "",
                also=refusal.also if refusal else (),
            )
        )
        return reply

    def _dispatch(self, req: Request, now: float) -> tuple[Surface, tuple[Reply, Refusal | None]]:
        cfg = self.config
        for api in cfg.rest_apis:
            if req.host == api.host:
                return "rest", handle_rest(req, api, cfg, now)
        for http_api in cfg.http_apis:
            if req.host == http_api.host:
                return "http", handle_http(req, http_api, cfg, now)
        for fn in cfg.function_urls:
            if req.host == fn.host:
                return "lambda-url", handle_function_url(req, fn, cfg, now)
        for domain in cfg.cognito_domains:
            if req.host == domain.host:
                return "cognito-oauth", handle_domain(req, domain, cfg, now)
        if req.host in {f"cognito-idp.{region}.amazonaws.com" for region in cfg.idp_regions}:
            return "cognito-idp", handle_idp(req, cfg, now)
        for domain in cfg.custom_domains:
            if req.host == domain.host:
                return "custom", handle_custom_domain(req, domain, cfg, now)
        if any(req.host == p.host for p in cfg.identity_pools):
            return "cognito-identity", handle_identity(req, cfg, now)
        # An API id that does not exist: AWS's DNS would not even resolve it. Answered like an unknown HTTP API
        # route so a stray request still gets a well-formed answer.
        return "unknown", (r.http_not_found(now), Refusal("route-not-found", "host", f"unknown host {req.host}"))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # keep-alive client connections must not hold up stop()
    gateway: Gateway


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    server: _Server

    def setup(self) -> None:
        # Headers and body go out in separate writes; without NODELAY, Nagle plus delayed ACKs adds ~40 ms each.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()
        # The TLS handshake runs here, in the connection's own thread, not in the accept loop.
        try:
            self.connection.do_handshake()  # type: ignore[attr-defined]
        except (ssl.SSLError, OSError):
            self.close_connection = True
            raise

    def handle(self) -> None:
        with contextlib.suppress(ssl.SSLError, ConnectionError, TimeoutError):
            super().handle()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        split = urlsplit(self.path)
        host = (self.headers.get("Host") or "").strip().lower()
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        req = Request(self.command, host, split.path or "/", split.query, headers, body)
        try:
            reply = self.server.gateway.handle(req)
        except Exception:
            log.exception("sandbox handler failed for %s %s", self.command, self.path)
            raise
        self.send_response_only(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.status != 304:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)
