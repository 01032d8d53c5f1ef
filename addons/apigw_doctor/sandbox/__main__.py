"""`apigw-doctor sandbox` (or `python -m apigw_doctor.sandbox`): the sandbox with mitmdump and the doctor in front.

It prints what a user needs to send traffic: the proxy and its CA, the routes with the authorizer of each, a ready
curl for InitiateAuth with the sandbox user's password, the app clients (the client-credentials client's id and
secret included: the sandbox's own throwaway values), and curl lines through the proxy. Then it shows mitmdump's
output, verdicts included, until Ctrl-C. `--no-proxy` runs the sandbox alone. Nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import TextIO

from .. import launch
from .app import Sandbox
from .config import SANDBOX_API_KEY, SANDBOX_CREDENTIALS
from .issuer import DEFAULT_PASSWORD, DEFAULT_USER, M2M_CLIENT_ID, SERVER_CLIENT_ID, WEB_CLIENT_ID

READY = "Ready. Send the requests above; verdicts appear below. Ctrl-C stops the proxy and the sandbox."
# mitmdump's connection lines ("[12:00:00.000][127.0.0.1:5000] client connect"): noise next to the verdicts.
_CONNECTION_LINE = re.compile(r"\[[\d:.]+\]\[[^\]]{1,80}\] (?:client|server) (?:connect|disconnect)")
_ID_TOKEN = """python3 -c 'import json,sys; print(json.load(sys.stdin)["AuthenticationResult"]["IdToken"])'"""


def routes(sb: Sandbox) -> list[str]:
    """Every route with the authorizer that guards it."""
    lines = []
    for api in sb.config.rest_apis:
        kind = "REST, edge-optimized" if api.edge else "REST"
        for r in api.routes:
            auth = {"cognito": "Cognito user pool", "lambda": "Lambda (TOKEN)", "lambda-cached": "Lambda, cached",
                    "iam": "IAM (SigV4)", "none": "none"}[r.auth]  # fmt: skip
            extra = (f", scopes {' '.join(r.scopes)}" if r.scopes else "") + (", API key" if r.api_key else "")
            lines.append(f"  {r.method:4} https://{api.host}/{api.stages[0]}{r.path}  ({kind}; {auth}{extra})")
    for api in sb.config.http_apis:
        for r in api.routes:
            method, _, path = r.route_key.partition(" ")
            auth = "JWT" if r.auth == "jwt" else "none"
            scopes = f", scopes {' '.join(r.scopes)}" if r.scopes else ""
            shown = f"{method:4} https://{api.host}{path}" if path else f"ANY  https://{api.host}/<any path>"
            lines.append(f"  {shown}  (HTTP API; {auth}{scopes}, audiences {', '.join(api.audiences)})")
    lines += [f"  ANY  https://{f.host}/  (Lambda function URL; {f.auth_type})" for f in sb.config.function_urls]
    lines += [f"  POST https://{d.host}/oauth2/token  (Cognito domain)" for d in sb.config.cognito_domains]
    return lines


def usage(sb: Sandbox, proxy_port: int | None, ca: Path) -> str:
    """What to send and how. With `proxy_port`, every command goes through the proxy, as printed."""
    pool = sb.issuer.pool
    rest = sb.config.rest_apis[0].host
    domain = sb.config.cognito_domains[0].host
    clients = pool.clients
    via = (f"curl -sS -x http://127.0.0.1:{proxy_port} --cacert {shlex.quote(str(ca))}" if proxy_port
           else f"curl -sS --cacert {shlex.quote(str(ca))} --connect-to ::{sb.upstream}")  # fmt: skip
    sign_in = json.dumps({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": WEB_CLIENT_ID,
                          "AuthParameters": {"USERNAME": DEFAULT_USER, "PASSWORD": DEFAULT_PASSWORD}})  # fmt: skip
    initiate_auth = (
        f"{via} https://cognito-idp.{pool.region}.amazonaws.com/"
        " -H 'Content-Type: application/x-amz-json-1.1'"
        " -H 'X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth'"
        f" -d {shlex.quote(sign_in)}"
    )
    m2m_secret = clients[M2M_CLIENT_ID].secret or ""
    lines = [
        f"apigw-doctor sandbox: API Gateway and Cognito on https://{sb.upstream} (its CA: {sb.certs.ca})",
        (f"proxy with the doctor: http://127.0.0.1:{proxy_port} (its CA: {ca})" if proxy_port else "no proxy"),
        "",
        "routes (authorizer in brackets):",
        *routes(sb),
        "",
        f"user pool    {pool.pool_id}  (issuer {pool.issuer})",
        f"user         {DEFAULT_USER}, password {DEFAULT_PASSWORD}",
        f"app clients  web {WEB_CLIENT_ID} (no secret; USER_PASSWORD_AUTH and the code flow)",
        f"             server {SERVER_CLIENT_ID}, secret {clients[SERVER_CLIENT_ID].secret}",
        f"             client credentials {M2M_CLIENT_ID}, secret {m2m_secret} (scopes orders/read admin/write)",
        f"IAM key      {SANDBOX_CREDENTIALS.access_key_id} / {SANDBOX_CREDENTIALS.secret_access_key} (us-east-1)",
        f"API key      {SANDBOX_API_KEY}",
        "(all of these are the sandbox's own throwaway values)",
        "",
        "send traffic (copy the lines as they are):",
        f"  {initiate_auth}",
        f"  TOKEN=$({initiate_auth} | {_ID_TOKEN})",
        f'  {via} -H "Authorization: $TOKEN" https://{rest}/prod/items',
        f"  {via} https://{rest}/prod/items",
        f"  {via} -H 'Authorization: undefined' https://{rest}/prod/items",
        f'  {via} -H "Authorization: $TOKEN" https://{rest}/prod/orders',
        f"  {via} -u {M2M_CLIENT_ID}:{m2m_secret} https://{domain}/oauth2/token"
        " -d grant_type=client_credentials -d scope=orders/read",
    ]
    return "\n".join(lines)


def _jwks_options(sb: Sandbox, workdir: Path) -> list[str]:
    """The pools' JWKS files, as a user passes the ones downloaded from Cognito (signature checks offline)."""
    args = []
    for pool in sb.issuer.pools.values():
        path = workdir / f"jwks-{pool.pool_id}.json"
        path.write_text(json.dumps(pool.jwks()))
        args += ["--set", f"apigw_jwks={pool.issuer}={path}"]
    return args


def run(*, port: int = 0, proxy: bool = True, out: TextIO = sys.stdout, stop: threading.Event | None = None) -> int:
    """Start the sandbox (and the proxy), print how to use them, follow mitmdump's output until `stop` or Ctrl-C."""
    from ..demo_proc import ProxyProcess, ProxyStartError, free_port

    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    workdir = Path(tempfile.mkdtemp(prefix="apigw-doctor-sandbox-"))
    sb = Sandbox.start(workdir / "sandbox", port=port)
    process: ProxyProcess | None = None
    try:
        confdir = launch.certs_dir()
        if proxy:
            args = ["--set", f"listen_port={free_port(8080)}", "--set", f"apigw_sandbox_upstream={sb.upstream}",
                    "--set", f"ssl_verify_upstream_trusted_ca={sb.certs.ca}", *_jwks_options(sb, workdir)]  # fmt: skip
            argv = launch.mitmproxy_command("mitmdump", args, confdir=confdir, sandbox=True)
            try:
                process = ProxyProcess(argv, workdir / "mitmdump.log").start()
            except ProxyStartError as e:
                print(f"apigw-doctor sandbox: {e}", file=sys.stderr)
                return 2
        print(usage(sb, process.port if process else None, confdir / "mitmproxy-ca-cert.pem"), file=out)
        print(f"\n{READY}\n", file=out, flush=True)
        _follow(process, stop, out)
    except KeyboardInterrupt:
        pass
    finally:
        if process is not None:
            process.stop()
        sb.stop()
    return 0


def _follow(process, stop: threading.Event, out: TextIO) -> None:  # type: ignore[no-untyped-def]
    """Copy mitmdump's new output (its verdicts) to `out` until `stop` is set or mitmdump ends."""
    shown = len(process.output) if process else 0
    while not stop.wait(0.2):
        if process is None:
            continue
        text = process.output
        end = text.rfind("\n") + 1  # whole lines only
        if end > shown:
            lines = text[shown:end].splitlines(keepends=True)
            out.write("".join(line for line in lines if not _CONNECTION_LINE.match(line)))
            out.flush()
            shown = end
        if not process.running:
            return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="apigw-doctor sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="the sandbox's port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--no-proxy", action="store_true", help="run the sandbox alone, without mitmdump")
    args = parser.parse_args(argv)
    return run(port=args.port, proxy=not args.no_proxy)


def serve(directory: str | Path | None = None, *, port: int = 0, out: TextIO = sys.stdout) -> Sandbox:
    """Start the sandbox alone and print how to reach it directly. The caller stops it."""
    sb = Sandbox.start(directory, port=port)
    print(usage(sb, None, sb.certs.ca), file=out, flush=True)
    return sb


if __name__ == "__main__":
    raise SystemExit(main())
