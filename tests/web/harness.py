"""A headless mitmweb with the addon and the sandbox redirect, for the web and browser tests (module-scoped)."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from apigw_doctor import launch
from apigw_doctor.demo_proc import ProxyProcess, free_port
from apigw_doctor.sandbox.app import Sandbox
from apigw_doctor.sandbox.scenarios import ScenarioResult, by_name, run_scenario

MITMWEB = Path(sys.executable).with_name("mitmweb")


@dataclass
class Mitmweb:
    sandbox: Sandbox
    process: ProxyProcess
    web_port: int
    password: str
    confdir: Path
    results: dict[str, ScenarioResult] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def api(self) -> httpx.Client:
        """The REST API: `Authorization: Bearer <web_password>`, plus the XSRF double-submit pair for POST/PUT."""
        xsrf = secrets.token_hex(8)
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.password}", "X-XSRFToken": xsrf},
            cookies={"_mitmproxy_xsrf": xsrf},
            trust_env=False,
            timeout=10,
        )

    def run(self, names: Sequence[str]) -> None:
        """Send the scenarios through mitmweb's proxy."""
        proxy = f"http://127.0.0.1:{self.process.port}"
        with self.sandbox.client(proxy=proxy, proxy_ca=self.confdir / "mitmproxy-ca-cert.pem") as client:
            for name in names:
                result = run_scenario(self.sandbox, by_name(name), client)
                assert result.ok, (name, result.status, result.body, result.sandbox)
                self.results[name] = result

    def flow_of(self, name: str, flows: list[dict]) -> dict:
        """The `GET /flows` entry of a scenario, found by the AWS request id in its response headers."""
        rid = self.results[name].request_id
        for f in flows:
            headers = {k.lower(): v for k, v in (f.get("response") or {}).get("headers", [])}
            if rid and rid in headers.values():
                return f
        raise AssertionError(f"no flow for {name} (request id {rid})")


def mitmweb_argv(sb: Sandbox, confdir: Path, password: str, web_port: int) -> list[str]:
    """What `apigw-doctor web` runs (the launch module's builder), plus the sandbox redirect."""
    return launch.mitmproxy_command(str(MITMWEB), [
        "--no-web-open-browser", "--web-port", str(web_port),
        "--set", f"web_password={password}", "--set", "listen_port=0",
        "--set", f"apigw_sandbox_upstream={sb.upstream}",
        "--set", f"ssl_verify_upstream_trusted_ca={sb.certs.ca}",
    ], confdir=confdir, sandbox=True)  # fmt: skip


@contextmanager
def running_mitmweb(workdir: Path, names: Sequence[str]) -> Iterator[Mitmweb]:
    """Sandbox + mitmweb, with `names` already sent through it; both stopped afterwards."""
    with Sandbox.start(workdir / "sandbox") as sb:
        password, web_port, confdir = secrets.token_urlsafe(16), free_port(), workdir / "certs"
        proc = ProxyProcess(mitmweb_argv(sb, confdir, password, web_port), workdir / "mitmweb.log")
        proc.start(web=True)
        try:
            web = Mitmweb(sb, proc, web_port, password, confdir)
            web.run(names)
            yield web
        finally:
            proc.stop()
