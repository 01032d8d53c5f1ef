"""Shared by the benchmarks: paths, the test flow builders, and tokens in bulk."""

from __future__ import annotations

import base64
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
VENV_BIN = ROOT / ".venv" / "bin"
ADDON_SCRIPT = ROOT / "addons" / "apigw_doctor_addon.py"

if str(ROOT) not in sys.path:  # `tests.unit.builders`: wire-accurate responses and real RS256 tokens
    sys.path.insert(0, str(ROOT))

from tests.unit import builders  # noqa: E402

REST_HOST = builders.REST_HOST
HTTP_HOST = builders.HTTP_HOST
UNWATCHED_HOST = "example.com"


def wall_token(**claims: object) -> str:
    """A real RS256 Cognito id token, valid for an hour from the wall clock (for traffic with a real Date)."""
    now = int(time.time())
    return builders.mint(iat=now - 60, auth_time=now - 60, exp=now + 3600, **claims)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenFactory:
    """Many distinct, realistic JWTs without signing each one.

    `pool` tokens are really RS256-signed by `builders.mint` (about 0.3 ms each). Each further token gets a fresh
    payload (its own `jti`, `sub`, `iat`/`exp`) and borrows a pool signature whose first characters are replaced by
    a counter, so every header.payload.signature triple and every signature-based fingerprint is distinct. The
    engine decodes tokens and never verifies them, so a borrowed signature costs it exactly what a real one does.
    """

    def __init__(self, pool: int = 256, *, now: int = builders.NOW) -> None:
        self.now = now
        self._signatures = [builders.mint(jti=f"pool-{i}").split(".")[2] for i in range(pool)]
        self._header = builders.mint().split(".")[0]
        self._count = 0

    def token(self, *, expired: bool = False, use: str = "id") -> str:
        n = self._count
        self._count += 1
        exp = self.now - 60 - n % 600 if expired else self.now + 3000 + n % 600
        claims: dict[str, object] = {
            "sub": f"{n:08x}-bbbb-cccc-dddd-eeeeeeeeeeee",
            "iss": builders.ISSUER,
            "token_use": use,
            "auth_time": self.now - 600,
            "iat": self.now - 600,
            "exp": exp,
            "jti": f"{n:08x}-0000-1111-2222-333344445555",
        }
        if use == "id":
            claims |= {"aud": builders.CLIENT, "cognito:username": f"user{n}", "email_verified": True}
        else:
            claims |= {"client_id": builders.CLIENT, "scope": "aws.cognito.signin.user.admin", "username": f"user{n}"}
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = self._signatures[n % len(self._signatures)]
        signature = _b64(n.to_bytes(12, "big")) + signature[16:]
        return f"{self._header}.{payload}.{signature}"


@contextmanager
def addon_context(*addons: object) -> Iterator:
    """`taddons.context`, whose master's log handler is removed again on exit.

    Each mitmproxy Master installs a root log handler that posts records to its event loop and never removes it;
    once a context closes its loop, a second context in the same process would fail on every log record.
    """
    from mitmproxy.test import taddons

    with taddons.context(*addons) as tctx:
        try:
            yield tctx
        finally:
            tctx.master._legacy_log_events.uninstall()
