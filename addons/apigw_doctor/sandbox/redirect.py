"""mitmproxy addon: send connections for the sandbox's AWS host names to the local sandbox instead.

Only the TCP address changes (in `server_connect`, before mitmproxy dials), so the Host header and the upstream
SNI keep the AWS names (docs/design.md, "The sandbox"). mitmproxy records the dialled address in the flow's URL; once
the exchange
is over, `response` puts the AWS name back, so saved flows and HARs read like a capture against AWS. Nothing that
was sent changes. mitmproxy must trust the sandbox CA:
`--set ssl_verify_upstream_trusted_ca=<dir>/tls/ca.pem`.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Sequence
from typing import Optional

from mitmproxy import ctx, http
from mitmproxy.proxy import server_hooks

from ..options import install_one_line_errors, invalid
from .tls import SANDBOX_DNS_NAMES

log = logging.getLogger(__name__)

DEFAULT_PATTERNS: tuple[str, ...] = tuple(n for n in SANDBOX_DNS_NAMES if n != "localhost")


def matches(host: str, patterns: Sequence[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(fnmatch.fnmatchcase(host, p.lower()) for p in patterns)


def parse_upstream(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {value!r}")
    return host, int(port)


class SandboxRedirect:
    def __init__(self) -> None:
        self.upstream: tuple[str, int] | None = None
        self.patterns: tuple[str, ...] = DEFAULT_PATTERNS

    def load(self, loader) -> None:  # type: ignore[no-untyped-def]
        install_one_line_errors()
        # Optional[str]: an option type `--set` can parse (docs/design.md, "Living inside mitmproxy 12").
        upstream_type = Optional[str]  # noqa: UP045
        loader.add_option("apigw_sandbox_upstream", upstream_type, None, "Send the sandbox's AWS hosts to HOST:PORT.")
        loader.add_option(
            "apigw_sandbox_hosts", Sequence[str], list(DEFAULT_PATTERNS), "Host patterns sent to the sandbox."
        )

    def configure(self, updated: set[str]) -> None:
        if "apigw_sandbox_upstream" in updated:
            value = ctx.options.apigw_sandbox_upstream
            try:
                self.upstream = parse_upstream(value) if value else None
            except ValueError as exc:
                raise invalid("apigw_sandbox_upstream", value, str(exc)) from exc
        if "apigw_sandbox_hosts" in updated:
            self.patterns = tuple(ctx.options.apigw_sandbox_hosts)

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        address = data.server.address
        if self.upstream is None or address is None or not matches(str(address[0]), self.patterns):
            return
        log.debug("sandbox: %s:%s -> %s:%s", address[0], address[1], *self.upstream)
        data.server.address = self.upstream

    def response(self, flow: http.HTTPFlow) -> None:
        sni = flow.server_conn.sni
        request = flow.request
        if self.upstream is None or not sni or (request.host, request.port) != self.upstream:
            return
        if matches(sni, self.patterns):
            host_header = request.host_header  # setting .host rewrites the Host header too; keep what was sent
            request.host, request.port = sni, 443
            request.host_header = host_header


def make_addons() -> list:
    """The addons the sandbox's `-s` script hands mitmproxy (launch.SANDBOX_SCRIPT)."""
    return [SandboxRedirect()]
