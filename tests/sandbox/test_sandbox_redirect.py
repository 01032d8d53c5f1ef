"""The SandboxRedirect addon: unit behaviour, and a real mitmdump carrying scenarios to the sandbox."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mitmproxy import exceptions
from mitmproxy.proxy import server_hooks
from mitmproxy.test import taddons, tflow

from apigw_doctor.sandbox.app import Sandbox
from apigw_doctor.sandbox.redirect import SandboxRedirect
from apigw_doctor.sandbox.scenarios import by_name, run_scenario

ROOT = Path(__file__).resolve().parents[2]
SHIM = ROOT / "addons" / "apigw_doctor_sandbox.py"


def _connect(addon: SandboxRedirect, host: str) -> tuple[str, int]:
    server = tflow.tserver_conn()
    server.address = (host, 443)
    addon.server_connect(server_hooks.ServerConnectionHookData(server=server, client=tflow.tclient_conn()))
    return server.address


def test_rewrites_only_the_address_of_sandbox_hosts() -> None:
    addon = SandboxRedirect()
    with taddons.context(addon) as tctx:
        assert _connect(addon, "abc123defg.execute-api.us-east-1.amazonaws.com")[0] != "127.0.0.1"  # option unset
        tctx.configure(addon, apigw_sandbox_upstream="127.0.0.1:4443")
        assert _connect(addon, "abc123defg.execute-api.us-east-1.amazonaws.com") == ("127.0.0.1", 4443)
        assert _connect(addon, "sandbox.auth.us-east-1.amazoncognito.com") == ("127.0.0.1", 4443)
        assert _connect(addon, "cognito-idp.us-east-1.amazonaws.com") == ("127.0.0.1", 4443)
        assert _connect(addon, "example.com") == ("example.com", 443)
        assert _connect(addon, "cognito-idp.us-west-2.amazonaws.com") == ("cognito-idp.us-west-2.amazonaws.com", 443)
        with pytest.raises(exceptions.OptionsError):
            tctx.configure(addon, apigw_sandbox_upstream="no-port")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def mitmdump(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    confdir = tmp_path_factory.mktemp("mitm")
    port = _free_port()
    mitmdump_bin = Path(sys.executable).with_name("mitmdump")
    proc = subprocess.Popen(
        [str(mitmdump_bin), "-q", "--listen-host", "127.0.0.1", "--listen-port", str(port),
         "--set", f"confdir={confdir}", "-s", str(SHIM),
         "--set", f"apigw_sandbox_upstream={sandbox.upstream}",
         "--set", f"ssl_verify_upstream_trusted_ca={sandbox.certs.ca}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    ca = confdir / "mitmproxy-ca-cert.pem"
    deadline = time.monotonic() + 15
    while True:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            if ca.exists():
                break
        except OSError:
            pass
        assert time.monotonic() < deadline, "mitmdump did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", ca
    proc.terminate()
    proc.wait(timeout=10)


@pytest.mark.parametrize("name", ["ok-rest-id-token", "token-expired", "wrong-audience", "cognito-bad-credentials",
                                  "oauth-wrong-content-type", "sigv4-expected"])  # fmt: skip
def test_scenarios_through_mitmdump_keep_aws_names(sandbox: Sandbox, mitmdump: tuple[str, Path], name: str) -> None:
    proxy, ca = mitmdump
    with sandbox.client(proxy=proxy, proxy_ca=ca) as client:
        result = run_scenario(sandbox, by_name(name), client)
    assert result.ok, (result.status, result.body, result.sandbox)
    # The sandbox saw the AWS host name in the Host header: the proxy changed only the TCP address.
    assert result.sandbox.host == by_name(name).host
