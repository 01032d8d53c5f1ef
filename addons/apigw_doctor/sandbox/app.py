"""The whole sandbox in one object: certificates, issuer, gateway, and an httpx client factory.

httpx is a test/demo dependency, not a runtime one: it is imported only when `Sandbox.client()` is called.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import GatewayConfig, default_config
from .gateway import Gateway, Outcome
from .issuer import Issuer
from .tls import CertPaths, make_certs

if TYPE_CHECKING:
    import httpx


class Sandbox:
    """Start with `Sandbox.start()`, or use as a context manager. Everything listens on 127.0.0.1 only."""

    def __init__(
        self,
        directory: str | Path | None = None,
        *,
        issuer: Issuer | None = None,
        config: GatewayConfig | None = None,
        port: int = 0,
    ) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="apigw-sandbox-") if directory is None else None
        self.directory = Path(directory or self._tmp.name)  # type: ignore[union-attr]
        self.certs: CertPaths = make_certs(self.directory / "tls")
        self.issuer = issuer or Issuer()
        self.config = config or default_config(self.issuer)
        self.gateway = Gateway(self.config, self.certs, port=port)

    @classmethod
    def start(cls, directory: str | Path | None = None, **kw: Any) -> Sandbox:
        sandbox = cls(directory, **kw)
        sandbox.gateway.start()
        return sandbox

    def stop(self) -> None:
        self.gateway.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> Sandbox:
        self.gateway.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self.gateway.port

    @property
    def upstream(self) -> str:
        """The value for mitmproxy's `apigw_sandbox_upstream` option."""
        return self.gateway.address

    def reason_for(self, request_id: str) -> Outcome | None:
        return self.gateway.reason_for(request_id)

    def client(
        self, *, proxy: str | None = None, proxy_ca: str | Path | None = None, timeout: float = 10
    ) -> httpx.Client:
        """An httpx client that reaches the sandbox under the AWS host names.

        Direct (no proxy): every connection goes to 127.0.0.1:<port> while the URL, Host header and SNI keep the
        AWS name (see `client.DirectTransport`). Through mitmproxy: `proxy` is its URL, `proxy_ca` its CA file.
        """
        from .client import direct_client, proxied_client

        if proxy:
            return proxied_client(proxy, proxy_ca, timeout=timeout)
        return direct_client(self.port, self.certs.ca, timeout=timeout)
