"""One live capture through a real mitmdump + the sandbox, shared by the offline tests.

mitmdump runs as the README documents it (`-s addons/apigw_doctor_addon.py`, default `flow_detail`), plus the
sandbox redirect and `--set apigw_evidence_dir`; its stdout and stderr are the log. Traffic: every sandbox scenario
(successes first, so the engine has its baseline) and requests that plant known secrets in every place a credential
travels. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from mitmproxy import http, io

from apigw_doctor.sandbox import sigv4
from apigw_doctor.sandbox.app import Sandbox
from apigw_doctor.sandbox.config import CUSTOM_DOMAIN, SANDBOX_API_KEY, SANDBOX_CREDENTIALS
from apigw_doctor.sandbox.issuer import M2M_CLIENT_ID, OTHER_CLIENT_ID, SERVER_CLIENT_ID, secret_hash
from apigw_doctor.sandbox.request import Request
from apigw_doctor.sandbox.scenarios import DOMAIN, HTTP, IDP, REST, SCENARIOS, run_scenario

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MITMDUMP = BIN / "mitmdump"
APIGW_DOCTOR = BIN / "apigw-doctor"
ADDON = REPO / "addons" / "apigw_doctor_addon.py"
SANDBOX_SHIM = REPO / "addons" / "apigw_doctor_sandbox.py"
KEY = "apigw_doctor"
LISTENING = re.compile(r"HTTP\(S\) proxy listening at \S+?:(\d+)")
JWT_RE = re.compile(r"e[wy][A-Za-z0-9_-]{4,}\.e[wy][A-Za-z0-9_-]*\.[A-Za-z0-9_-]{16,}")


# The terminal width mitmdump and the CLI see (their output goes to a pipe or file here). mitmdump's flow_detail=1
# request line prints the URL cut to this width - 25; 250 columns is a maximised terminal on a laptop screen.
COLUMNS = "250"


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    out["PYTHONUNBUFFERED"] = "1"
    out["COLUMNS"] = COLUMNS
    return out


def read_flows(path: Path) -> list[http.HTTPFlow]:
    with path.open("rb") as fp:
        return [f for f in io.FlowReader(fp).stream() if isinstance(f, http.HTTPFlow)]


@dataclass
class Planted:
    """Secrets sent through the proxy (or answered by the sandbox); the scan must find none of them."""

    values: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, value: str) -> str:
        self.values[name] = value
        return value


@dataclass
class Step:
    label: str
    expected: str | None  # the cause the live run must give (None: a success)


@dataclass
class Live:
    workdir: Path
    sandbox: Sandbox
    flow_file: Path
    log: str
    evidence_dir: Path
    flows: list[http.HTTPFlow]
    steps: list[Step]
    planted: Planted
    wire_jwts: list[str]  # every JWT that crossed the wire (requests and responses), for the signature scan
    options: list[str]  # the `--set NAME=VALUE` arguments the live run had (analyze gets the same)


# --- the sandbox, with a Set-Cookie on the planted cookie request ---------------------------------------------------


def _with_set_cookie(sb: Sandbox, value: str) -> None:
    """Upstream behaviour for one request shape: answer a request carrying `session=` with a Set-Cookie.

    Wraps the in-process gateway's `handle` (the sandbox runs in this test process); the wire is real.
    """
    original = sb.gateway.handle

    def handle(req: Request) -> object:
        reply = original(req)
        if "session=" in (req.header("cookie") or ""):
            extra = (("Set-Cookie", f"sid={value}; Path=/; Secure; HttpOnly"),)
            reply = dataclasses.replace(reply, headers=tuple(reply.headers) + extra)
        return reply

    sb.gateway.handle = handle  # type: ignore[method-assign]


# --- mitmdump ------------------------------------------------------------------------------------------------------


def start_mitmdump(args: list[str], log_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [str(MITMDUMP), "--set", "listen_host=127.0.0.1", "--set", "listen_port=0", *args],
        stdout=log, stderr=subprocess.STDOUT, env=env(),
    )  # fmt: skip
    log.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        if m := LISTENING.search(text):
            return proc, int(m.group(1))
        if proc.poll() is not None:
            raise RuntimeError(f"mitmdump exited early:\n{text}")
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"mitmdump did not start:\n{log_path.read_text(errors='replace')}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)  # graceful: `done` runs and the -w file is flushed
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


# --- traffic -------------------------------------------------------------------------------------------------------


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _idp(op: str, body: dict[str, object]) -> tuple[dict[str, str], bytes]:
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"AWSCognitoIdentityProviderService.{op}"}
    return headers, json.dumps(body).encode()


def _send(client: httpx.Client, method: str, host: str, path: str, headers: dict[str, str],
          content: bytes | None = None) -> httpx.Response:  # fmt: skip
    return client.request(method, f"https://{host}{path}", headers=headers, content=content, follow_redirects=False)


def planted_successes(sb: Sandbox, client: httpx.Client, p: Planted) -> list[tuple[Step, httpx.Response]]:
    pool = sb.issuer.pool
    server_secret = pool.clients[SERVER_CLIENT_ID].secret or ""
    m2m_secret = pool.clients[M2M_CLIENT_ID].secret or ""
    p.add("server client secret", server_secret)
    p.add("m2m client secret", m2m_secret)
    p.add("m2m Basic credentials", base64.b64encode(f"{M2M_CLIENT_ID}:{m2m_secret}".encode()).decode())
    password = p.add("password", "Pw-" + secrets.token_urlsafe(18))
    pool.add_user("carol", password)
    p.add("SECRET_HASH", secret_hash("carol", SERVER_CLIENT_ID, server_secret))
    p.add("sandbox API key beyond its prefix", SANDBOX_API_KEY[4:])
    out = []

    r = _send(client, "GET", REST, "/prod/keyed/items", {"x-api-key": SANDBOX_API_KEY})
    out.append((Step("planted-api-key-ok", None), r))

    headers, body = _idp("InitiateAuth", {
        "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": SERVER_CLIENT_ID,
        "AuthParameters": {"USERNAME": "carol", "PASSWORD": password, "SECRET_HASH": p.values["SECRET_HASH"]},
    })  # fmt: skip
    r = _send(client, "POST", IDP, "/", headers, body)
    result = r.json()["AuthenticationResult"]
    p.add("AuthenticationResult IdToken signature", result["IdToken"].rsplit(".", 1)[1])
    p.add("AuthenticationResult AccessToken signature", result["AccessToken"].rsplit(".", 1)[1])
    p.add("refresh token (JWE) beyond its header", result["RefreshToken"].split(".", 1)[1])
    p.values["_refresh"] = result["RefreshToken"]  # the whole token, for the requests below (not scanned as is)
    out.append((Step("planted-sign-in", None), r))

    form = urlencode({"grant_type": "client_credentials"}).encode()
    headers = {"Authorization": _basic(M2M_CLIENT_ID, m2m_secret), "Content-Type": "application/x-www-form-urlencoded"}
    r = _send(client, "POST", DOMAIN, "/oauth2/token", headers, form)
    p.add("client_credentials access_token signature", r.json()["access_token"].rsplit(".", 1)[1])
    out.append((Step("planted-oauth-client-credentials", None), r))
    return out


def planted_failures(sb: Sandbox, client: httpx.Client, p: Planted) -> list[tuple[Step, httpx.Response]]:
    pool = sb.issuer.pool
    out = []
    expired = pool.mint_id_token(iat=int(time.time()) - 7200)
    cookie_jwt = pool.mint_id_token()
    query_jwt = pool.mint_access_token()
    p.add("expired ID token signature (Authorization)", expired.rsplit(".", 1)[1])
    p.add("ID token signature (cookie)", cookie_jwt.rsplit(".", 1)[1])
    p.add("access token signature (query string)", query_jwt.rsplit(".", 1)[1])
    cookie = p.add("cookie value", secrets.token_urlsafe(32))
    set_cookie = p.add("Set-Cookie value", secrets.token_urlsafe(32))
    _with_set_cookie(sb, set_cookie)
    query_opaque = p.add("opaque token (query string)", secrets.token_urlsafe(24))
    headers = {"Authorization": f"Bearer {expired}", "Cookie": f"session={cookie}; idToken={cookie_jwt}; theme=dark"}
    query = f"token={query_opaque}&access_token={query_jwt}&limit=5"
    r = _send(client, "GET", REST, f"/prod/items?{query}", headers)
    out.append((Step("planted-bearer-cookie-query", "token-expired"), r))

    wrong_key = "Pk7q" + secrets.token_urlsafe(30).replace("-", "x").replace("_", "y")
    p.add("wrong API key beyond its prefix", wrong_key[4:])
    r = _send(client, "GET", REST, "/prod/keyed/items", {"x-api-key": wrong_key})
    out.append((Step("planted-api-key-wrong", "api-key-rejected"), r))

    server_secret = p.values["server client secret"]
    wrong_hash = p.add("wrong SECRET_HASH", secret_hash("carol", SERVER_CLIENT_ID, server_secret + "x"))
    headers, body = _idp("InitiateAuth", {
        "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": SERVER_CLIENT_ID,
        "AuthParameters": {"USERNAME": "carol", "PASSWORD": p.values["password"], "SECRET_HASH": wrong_hash},
    })  # fmt: skip
    r = _send(client, "POST", IDP, "/", headers, body)
    out.append((Step("planted-initiate-auth-secret-hash", "cognito-secret-hash"), r))

    wrong_password = p.add("wrong password", "Pw-" + secrets.token_urlsafe(18))
    headers, body = _idp("InitiateAuth", {
        "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": SERVER_CLIENT_ID,
        "AuthParameters": {"USERNAME": "carol", "PASSWORD": wrong_password, "SECRET_HASH": p.values["SECRET_HASH"]},
    })  # fmt: skip
    r = _send(client, "POST", IDP, "/", headers, body)
    out.append((Step("planted-initiate-auth-password", "cognito-bad-credentials"), r))

    refresh = p.values["_refresh"]
    pool.revoke_refresh_token(refresh)
    headers, body = _idp("InitiateAuth", {
        "AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": SERVER_CLIENT_ID,
        "AuthParameters": {"REFRESH_TOKEN": refresh, "SECRET_HASH": p.values["SECRET_HASH"]},
    })  # fmt: skip
    r = _send(client, "POST", IDP, "/", headers, body)
    out.append((Step("planted-refresh-token-auth", "cognito-token-revoked"), r))

    m2m_secret = p.values["m2m client secret"]
    headers = {"Authorization": _basic(M2M_CLIENT_ID, m2m_secret), "Content-Type": "application/json"}
    r = _send(client, "POST", DOMAIN, "/oauth2/token", headers, b'{"grant_type":"client_credentials"}')
    out.append((Step("planted-oauth-basic-json", "oauth-wrong-content-type"), r))

    form = urlencode({"grant_type": "refresh_token", "client_id": SERVER_CLIENT_ID, "client_secret": server_secret,
                      "refresh_token": refresh}).encode()  # fmt: skip
    r = _send(client, "POST", DOMAIN, "/oauth2/token", {"Content-Type": "application/x-www-form-urlencoded"}, form)
    out.append((Step("planted-oauth-form-secret", "oauth-invalid-grant"), r))

    session_token = p.add(
        "SigV4 session token", "IQoJb3JpZ2luX2Vj" + base64.b64encode(secrets.token_bytes(240)).decode()
    )
    url = f"https://{REST}/prod/iam/items"
    wrong = sigv4.Credentials(SANDBOX_CREDENTIALS.access_key_id, "wrong-" + secrets.token_urlsafe(20))
    signed = sigv4.sign("GET", url, wrong, region="us-east-1", service="execute-api", now=sb.gateway.now(),
                        headers={"X-Amz-Security-Token": session_token})  # fmt: skip
    p.add("SigV4 signature", signed["Authorization"].rsplit("Signature=", 1)[1])
    p.add("access key id beyond its prefix", SANDBOX_CREDENTIALS.access_key_id[4:])
    r = _send(client, "GET", REST, "/prod/iam/items", {**signed, "X-Amz-Security-Token": session_token})
    out.append((Step("planted-sigv4-session-token", "sigv4-signature-mismatch"), r))

    other = pool.mint_id_token(client_id=OTHER_CLIENT_ID)
    p.add("ID token signature (HTTP API)", other.rsplit(".", 1)[1])
    r = _send(client, "GET", HTTP, "/items", {"Authorization": f"Bearer {other}"})
    out.append((Step("planted-http-api-bearer", "wrong-audience"), r))
    return out


def capture(sb: Sandbox, workdir: Path) -> Live:
    confdir = workdir / "conf"
    flow_file = workdir / "live.mitm"
    evidence_dir = workdir / "artifacts" / "live-evidence"
    log_path = workdir / "artifacts" / "mitmdump-live.log"
    log_path.parent.mkdir(parents=True)
    jwks = workdir / "jwks.json"
    jwks.write_text(json.dumps(sb.issuer.jwks()))
    options = ["--set", f"apigw_jwks={sb.issuer.pool.pool_id}={jwks}", "--set", f"apigw_hosts={CUSTOM_DOMAIN}"]
    proc, port = start_mitmdump(
        ["-s", str(ADDON), "-s", str(SANDBOX_SHIM), "--set", f"confdir={confdir}",
         "--set", f"apigw_sandbox_upstream={sb.upstream}", "--set", f"ssl_verify_upstream_trusted_ca={sb.certs.ca}",
         "--set", f"apigw_evidence_dir={evidence_dir}", "-w", str(flow_file), *options],
        log_path,
    )  # fmt: skip
    planted = Planted()
    steps: list[Step] = []
    try:
        with sb.client(proxy=f"http://127.0.0.1:{port}", proxy_ca=confdir / "mitmproxy-ca-cert.pem") as client:
            successes = [s for s in SCENARIOS if s.cause is None]
            # This run has no API definition; the scenarios only a definition tells apart run in the demo.
            failures = [s for s in SCENARIOS if s.cause is not None and not s.needs_definition]
            for s in successes:
                result = run_scenario(sb, s, client)
                assert result.ok, (s.name, result.status, result.body)
                steps.append(Step(s.name, None))
            for step, _ in planted_successes(sb, client, planted):
                steps.append(step)
            for s in failures:
                result = run_scenario(sb, s, client)
                assert result.ok, (s.name, result.status, result.body)
                steps.append(Step(s.name, s.cause))
            for step, _ in planted_failures(sb, client, planted):
                steps.append(step)
    finally:
        stop(proc)
    planted.values.pop("_refresh")
    flows = read_flows(flow_file)
    wire = []
    for f in flows:
        for message in (f.request, f.response):
            if message is not None:
                text = bytes(message.headers) + (message.get_content(strict=False) or b"") + f.request.url.encode()
                wire += JWT_RE.findall(text.decode("utf-8", "replace"))
    return Live(
        workdir=workdir,
        sandbox=sb,
        flow_file=flow_file,
        log=log_path.read_text(errors="replace"),
        evidence_dir=evidence_dir,
        flows=flows,
        steps=steps,
        planted=planted,
        wire_jwts=sorted(set(wire)),
        options=options,
    )


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    workdir = tmp_path_factory.mktemp("offline-live")
    sb = Sandbox.start(workdir / "sandbox")
    try:
        yield capture(sb, workdir)
    finally:
        sb.stop()


# --- offline runs of the same traffic --------------------------------------------------------------------------------


@dataclass
class Run:
    path: Path
    returncode: int
    stdout: str
    stderr: str

    @property
    def doc(self) -> dict:
        return json.loads(self.stdout)


def run_all(commands: dict[str, list[str]], timeout: float = 120) -> dict[str, tuple[int, str, str]]:
    """Run several commands at once (each is a separate interpreter start-up); returns rc, stdout, stderr each."""
    procs = {
        name: subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
        for name, cmd in commands.items()
    }
    results = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=timeout)
        results[name] = (proc.returncode, out, err)
    return results


@pytest.fixture(scope="session")
def json_runs(live: Live) -> dict[str, Run]:
    """`apigw-doctor analyze FILE --json` for each browser-shaped HAR, mitmproxy's own HAR and the flow file."""
    from mitmproxy.addons.savehar import SaveHar

    from tests.offline.samples import FLAVORS, write_har

    out = live.workdir / "hars"
    out.mkdir()
    files = {flavor: write_har(live.flows, flavor, out / f"{flavor}.har") for flavor in FLAVORS}
    files["mitmproxy-har"] = out / "mitmproxy.har"
    files["mitmproxy-har"].write_text(json.dumps(SaveHar().make_har(live.flows)))
    files["flow-file"] = live.flow_file
    results = run_all(
        {name: [str(APIGW_DOCTOR), "analyze", str(path), "--json", *live.options] for name, path in files.items()}
    )
    return {name: Run(files[name], *results[name]) for name in files}
