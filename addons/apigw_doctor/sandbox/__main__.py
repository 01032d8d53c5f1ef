"""`python -m apigw_doctor.sandbox [--dir DIR] [--port N]`: run the sandbox until Ctrl-C and print how to use it."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import TextIO

from ..launch import SANDBOX_SCRIPT
from .app import Sandbox
from .config import IDENTITY_POOL_ID, SANDBOX_API_KEY, SANDBOX_CREDENTIALS
from .issuer import DEFAULT_PASSWORD, DEFAULT_USER, M2M_CLIENT_ID, SERVER_CLIENT_ID, WEB_CLIENT_ID


def usage(sb: Sandbox) -> str:
    pool = sb.issuer.pool
    rest = sb.config.rest_apis[0].host
    shim = SANDBOX_SCRIPT
    lines = [
        f"apigw-doctor sandbox listening on https://{sb.upstream} (CA: {sb.certs.ca})",
        "",
        "hosts:",
        *(f"  https://{h}" for h in sb.config.hosts()),
        "",
        f"user pool   {pool.pool_id}  issuer {pool.issuer}",
        f"app clients web={WEB_CLIENT_ID}  server={SERVER_CLIENT_ID} (secret)  m2m={M2M_CLIENT_ID} (secret)",
        f"user        {DEFAULT_USER} / {DEFAULT_PASSWORD}",
        f"identity pool {IDENTITY_POOL_ID} (Logins key {pool.issuer.removeprefix('https://')})",
        f"IAM key     {SANDBOX_CREDENTIALS.access_key_id} (us-east-1)    API key {SANDBOX_API_KEY}",
        "",
        "direct, with curl:",
        f"  curl --cacert {sb.certs.ca} --connect-to ::{sb.upstream} https://{rest}/prod/items",
        "through mitmproxy (the URL, Host and SNI keep the AWS names):",
        f"  mitmdump -s {shim} --set apigw_sandbox_upstream={sb.upstream} \\",
        f"      --set ssl_verify_upstream_trusted_ca={sb.certs.ca}",
        f"  curl -x http://127.0.0.1:8080 --cacert ~/.mitmproxy/mitmproxy-ca-cert.pem https://{rest}/prod/items",
    ]
    return "\n".join(lines)


def serve(directory: str | Path | None = None, *, port: int = 0, out: TextIO = sys.stdout) -> Sandbox:
    """Start the sandbox (issuer + gateway) on 127.0.0.1 and print how to use it. The caller stops it."""
    sb = Sandbox.start(directory, port=port)
    print(usage(sb), file=out, flush=True)
    return sb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apigw_doctor.sandbox", description=__doc__)
    parser.add_argument("--dir", help="where to write the sandbox CA and certificate (default: a temp dir)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    args = parser.parse_args(argv)
    sb = serve(args.dir, port=args.port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sb.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
