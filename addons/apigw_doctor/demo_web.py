"""`apigw-doctor demo --web`: mitmweb with the addon, the demo's flows loaded, and its proxy wired to the sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from .demo_proc import ProxyProcess, free_port, proxy_argv

if TYPE_CHECKING:
    from .sandbox.app import Sandbox


def mitmweb_args(sb: Sandbox, flow_file: Path, *, listen_port: int, web_port: int, open_browser: bool) -> list[str]:
    return [
        "--set", "listen_host=127.0.0.1", "--set", f"listen_port={listen_port}",
        "--set", f"web_port={web_port}", "--set", f"web_open_browser={str(open_browser).lower()}",
        "--set", f"apigw_sandbox_upstream={sb.upstream}",
        "--set", f"ssl_verify_upstream_trusted_ca={sb.certs.ca}",
        "-r", str(flow_file),
    ]  # fmt: skip


def serve_web(sb: Sandbox, flow_file: Path, confdir: Path, workdir: Path, *, open_browser: bool) -> ProxyProcess:
    """mitmweb with the addon, the demo's flows loaded, and its proxy still wired to the sandbox."""
    listen_port, web_port = free_port(8080), free_port(8081)
    args = mitmweb_args(sb, flow_file, listen_port=listen_port, web_port=web_port, open_browser=open_browser)
    proc = ProxyProcess(proxy_argv("mitmweb", confdir, args), workdir / "mitmweb.log")
    return proc.start(web=True)


def web_help(sb: Sandbox, proc: ProxyProcess, confdir: Path, console: Console) -> None:
    host = sb.config.rest_apis[0].host
    lines = [
        "",
        "[bold]mitmweb is running with the demo's flows. Open:[/]",
        proc.web_url,
        "- The Comment column shows each verdict (token-expired [H]); the request's and the response's content",
        "  view `apigw` show the verdict, the token and the checks.",
        "- Command bar (Options → Display Command Bar): apigw.summary @all; mark flows (m), then apigw.explain @marked",
        f"- Its proxy (http://127.0.0.1:{proc.port}) still reaches the sandbox; replayed flows get fresh verdicts:",
        f"  curl -x http://127.0.0.1:{proc.port} --cacert {confdir / 'mitmproxy-ca-cert.pem'} https://{host}/prod/items",
        f"- mitmweb's log: {proc.log_file}",
        "Press Ctrl-C to stop mitmweb and the sandbox.",
    ]
    for line in lines:
        console.print(line, highlight=False, markup=line.startswith("[bold]"))
