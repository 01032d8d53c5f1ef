"""Pieces for the end-to-end tests: Cognito-shaped tokens, a replaying TLS upstream, and a real mitmdump process.

Nothing here talks to anything but 127.0.0.1. The upstream answers with the documented API Gateway replies
(`apigw_doctor.sandbox.responses`, byte for byte from docs/wire-reference.md) with a real `Date` header,
over TLS with a throwaway CA (`apigw_doctor.sandbox.tls`); mitmdump trusts that CA with
`ssl_verify_upstream_trusted_ca`, and the client trusts mitmproxy's CA: real TLS on both sides.
"""

from __future__ import annotations

import os
import re
import signal
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from apigw_doctor.sandbox import responses, tls

REPO = Path(__file__).resolve().parents[2]
MITMDUMP = Path(sys.executable).with_name("mitmdump")
ADDON_SCRIPT = REPO / "addons" / "apigw_doctor_addon.py"
REDIRECT_SCRIPT = Path(__file__).resolve().parents[2] / "addons" / "apigw_doctor_sandbox.py"
BREAK_ENGINE_SCRIPT = Path(__file__).with_name("break_engine.py")

REGION = "us-east-1"
POOL_ID = "us-east-1_E2eP00l01"
OTHER_POOL_ID = "us-east-1_E2eOther99"
CLIENT_ID = "1e2ewebclient0000000000001"
OTHER_CLIENT_ID = "4e2eotherappclient00000004"
REST_HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"
HTTP_API_HOST = "h7tpapi001.execute-api.us-east-1.amazonaws.com"

_LISTENING = re.compile(r"HTTP\(S\) proxy listening at \S+?:(\d+)")


def issuer(pool_id: str = POOL_ID) -> str:
    return f"https://cognito-idp.{pool_id.split('_', 1)[0]}.amazonaws.com/{pool_id}"


class TokenMinter:
    """Real RS256 JWTs with Cognito's claim sets (wire-reference "Cognito tokens"), signed with a throwaway RSA key."""

    def __init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.id_kid = f"e2e-id-{uuid.uuid4().hex[:8]}"  # Cognito uses different kids for ID and access tokens
        self.access_kid = f"e2e-access-{uuid.uuid4().hex[:8]}"
        self.minted: list[str] = []

    def _sign(self, claims: dict[str, Any], kid: str) -> str:
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": kid})
        self.minted.append(token)
        return token

    def id_token(self, *, exp: int, pool_id: str = POOL_ID, client_id: str = CLIENT_ID, iat: int | None = None) -> str:
        iat = exp - 3600 if iat is None else iat
        origin = str(uuid.uuid4())
        return self._sign(
            {
                "sub": "2f6b8d1c-7c1e-4a55-9a7e-0e2e00000001",
                "aud": client_id,
                "email_verified": True,
                "token_use": "id",
                "auth_time": iat,
                "iss": issuer(pool_id),
                "cognito:username": "alice",
                "exp": exp,
                "iat": iat,
                "jti": str(uuid.uuid4()),
                "origin_jti": origin,
                "email": "alice@example.com",
            },
            self.id_kid,
        )

    def access_token(self, *, exp: int, scope: str = "aws.cognito.signin.user.admin", pool_id: str = POOL_ID) -> str:
        iat = exp - 3600
        return self._sign(
            {
                "sub": "2f6b8d1c-7c1e-4a55-9a7e-0e2e00000001",
                "token_use": "access",
                "scope": scope,
                "auth_time": iat,
                "iss": issuer(pool_id),
                "exp": exp,
                "iat": iat,
                "jti": str(uuid.uuid4()),
                "origin_jti": str(uuid.uuid4()),
                "client_id": CLIENT_ID,
                "username": "alice",
            },
            self.access_kid,
        )


# --- the upstream -----------------------------------------------------------------------------------------------

Route = Callable[[float, Mapping[str, str]], responses.Reply]


@dataclass
class Exchange:
    """One request as the upstream received it and the reply exactly as it sent it."""

    method: str
    host: str
    path: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    status: int
    response_headers: list[tuple[str, str]]
    response_body: bytes


@dataclass
class Upstream:
    """An HTTPS server that answers `(host, method, path)` with a scripted API Gateway reply, dated now."""

    certs: tls.CertPaths
    routes: dict[tuple[str, str, str], deque[Route]] = field(default_factory=dict)
    exchanges: list[Exchange] = field(default_factory=list)
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def route(self, host: str, method: str, path: str, reply: Route) -> None:
        """Queue the reply for the next request to `(host, method, path)`; each queued reply answers once."""
        self.routes.setdefault((host.lower(), method.upper(), path), deque()).append(reply)

    def start(self) -> Upstream:
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
                path = self.path.split("?", 1)[0]
                queued = upstream.routes.get((host, self.command, path))
                handler = queued.popleft() if queued else None
                if handler is None:
                    reply = responses.Reply(599, (("Content-Type", "text/plain"),), b"e2e upstream: no such route", "")
                else:
                    reply = handler(time.time(), self.headers)
                headers = [*reply.headers, ("Content-Length", str(len(reply.body)))]
                upstream.exchanges.append(
                    Exchange(
                        self.command,
                        host,
                        self.path,
                        list(self.headers.items()),
                        body,
                        reply.status,
                        headers,
                        reply.body,
                    )
                )
                self.send_response_only(reply.status)
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)
                self.wfile.flush()

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _serve

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certs.cert, self.certs.key)
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server, self.port = server, server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, name="e2e-upstream", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


# --- mitmdump ---------------------------------------------------------------------------------------------------


def mitmdump_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env["PYTHONUNBUFFERED"] = (
        "1"  # else "proxy listening at" sits in a pipe buffer (docs/design.md, "Living inside mitmproxy 12")
    )
    return env


class LiveMitmdump:
    """`mitmdump` as a subprocess in regular-proxy mode on 127.0.0.1, port discovered from its log."""

    def __init__(self, workdir: Path, upstream: Upstream, scripts: tuple[Path, ...] = (ADDON_SCRIPT,)) -> None:
        self.confdir = workdir / "certs"
        self.flows_file = workdir / "flows.mitm"
        self.args = [
            str(MITMDUMP),
            "--set",
            "listen_host=127.0.0.1",
            "--set",
            "listen_port=0",
            "--set",
            f"confdir={self.confdir}",
            "--set",
            f"ssl_verify_upstream_trusted_ca={upstream.certs.ca}",
            "-w",
            str(self.flows_file),
        ]
        for script in (REDIRECT_SCRIPT, *scripts):  # the redirect's response hook must run before the addon's
            self.args += ["-s", str(script)]
        self.args += ["--set", f"apigw_sandbox_upstream=127.0.0.1:{upstream.port}"]
        self.lines: list[str] = []
        self.port = 0
        self.returncode: int | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._listening = threading.Event()

    @property
    def ca_file(self) -> Path:
        return self.confdir / "mitmproxy-ca-cert.pem"

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stdout(self) -> str:
        return "\n".join(self.lines)

    def start(self, timeout: float = 30) -> LiveMitmdump:
        self._proc = subprocess.Popen(
            self.args,
            cwd=REPO,
            env=mitmdump_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self._reader = threading.Thread(target=self._read, name="mitmdump-stdout", daemon=True)
        self._reader.start()  # keep draining: the verdict panels would otherwise fill the pipe
        if not self._listening.wait(timeout):
            self.stop()
            raise RuntimeError(f"mitmdump did not start listening:\n{self.stdout}")
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if not self._listening.is_set() and (m := _LISTENING.search(line)):
                self.port = int(m[1])
                self._listening.set()
        self._listening.set()  # the process ended: stop waiting either way

    def client(self):
        import httpx

        verify = ssl.create_default_context(cafile=str(self.ca_file))
        return httpx.Client(proxy=self.proxy_url, verify=verify, trust_env=False, timeout=15)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM (graceful: `done` runs and the -w file is flushed), then wait for the log to drain."""
        if self._proc is None:
            return -1
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self.returncode = self._proc.wait(timeout)
        if self._reader is not None:
            self._reader.join(timeout)
        return self.returncode


def run_offline(source: Path, out: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`mitmdump -n -r SOURCE -s addons/apigw_doctor_addon.py -w OUT`: the addon on recorded traffic."""
    args = [str(MITMDUMP), "-n", "-r", str(source), "-s", str(ADDON_SCRIPT), "-w", str(out)]
    return subprocess.run(
        args, cwd=REPO, env=mitmdump_env(), capture_output=True, text=True, timeout=timeout, check=False
    )


def read_flows(path: Path) -> list:
    from mitmproxy import io

    with path.open("rb") as fp:
        return list(io.FlowReader(fp).stream())
