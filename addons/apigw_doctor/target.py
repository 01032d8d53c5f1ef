"""Pipeline step 1, Target: which AWS surface a request goes to (host formats: wire-reference "Host names")."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from . import wire
from .model import Surface, Target

_EXECUTE_API = re.compile(
    r"^(?P<id>[a-z0-9]+)(?:-(?P<vpce>vpce-[a-z0-9]+))?\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$"
)
# Private API through the VPC endpoint's public DNS name; the API id travels in Host or x-apigw-api-id.
_VPCE_PUBLIC = re.compile(r"^(?P<dns>vpce-[a-z0-9-]+)\.execute-api\.(?P<region>[a-z0-9-]+)\.vpce\.amazonaws\.com$")
_LAMBDA_URL = re.compile(r"^(?P<id>[a-z0-9]+)\.lambda-url\.(?P<region>[a-z0-9-]+)\.on\.aws$")
_COGNITO_DOMAIN = re.compile(r"^(?P<prefix>[a-z0-9-]+)\.auth\.(?P<region>[a-z0-9-]+)\.amazoncognito\.com$")
_COGNITO_IDP = re.compile(r"^cognito-idp\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")
_COGNITO_IDENTITY = re.compile(r"^cognito-identity\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")

_CACHE_LIMIT = 4096


@dataclass(slots=True)
class HostMatch:
    """What the host name alone says; the path and reply headers complete it into a `Target`."""

    surface: Surface
    api_id: str | None
    region: str | None
    vpce: bool = False
    host: str = ""  # the host name, lower case, without port


def _match_aws_host(host: str) -> HostMatch | None:
    if m := _EXECUTE_API.match(host):
        return HostMatch("rest", m["id"], m["region"], vpce=bool(m["vpce"]))
    if m := _VPCE_PUBLIC.match(host):
        return HostMatch("rest", None, m["region"], vpce=True)
    if m := _LAMBDA_URL.match(host):
        return HostMatch("lambda-url", m["id"], m["region"])
    if m := _COGNITO_DOMAIN.match(host):
        return HostMatch("cognito-oauth", None, m["region"])
    if m := _COGNITO_IDP.match(host):
        return HostMatch("cognito-idp", None, m["region"])
    if m := _COGNITO_IDENTITY.match(host):
        return HostMatch("cognito-identity", None, m["region"])
    return None


def cognito_api_by_target(amz_target: str | None) -> Surface | None:
    """The Cognito JSON API a request calls, from its `X-Amz-Target` header, whatever the host (wire.py)."""
    if not amz_target:
        return None
    if amz_target.startswith(wire.TARGET_USER_POOLS):
        return "cognito-idp"
    if amz_target.startswith(wire.TARGET_IDENTITY_POOLS):
        return "cognito-identity"
    return None


class HostMatcher:
    """Decides, fast and with a bounded cache, whether a host is watched.

    Unwatched traffic must cost next to nothing (docs/design.md: <= 5 µs per unwatched flow), hence the cache.
    """

    def __init__(self, extra_hosts: Iterable[str] = ()) -> None:
        self._exact: set[str] = set()
        self._suffixes: list[str] = []
        for spec in extra_hosts:
            pattern = spec.strip().lower().rstrip(".")
            if pattern.startswith("*."):
                self._suffixes.append(pattern[1:])
            elif pattern:
                self._exact.add(pattern)
        self._cache: dict[str, HostMatch | None] = {}

    def match(self, authority: str) -> HostMatch | None:
        """`authority` is a host name or a raw Host header value (`host[:port]`), as the client sent it."""
        try:
            return self._cache[authority]
        except KeyError:
            pass
        host = _strip_port(authority).lower().rstrip(".")
        found = self._classify(host)
        if found is not None:
            found.host = host
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[authority] = found
        return found

    def _classify(self, host: str) -> HostMatch | None:
        if found := _match_aws_host(host):
            return found
        if host in self._exact or any(host.endswith(s) for s in self._suffixes):
            return HostMatch("custom", None, None)
        return None


def _strip_port(authority: str) -> str:
    if authority.startswith("["):  # IPv6 literal: never an AWS name
        return authority.split("]", 1)[0] + "]"
    name, sep, port = authority.rpartition(":")
    return name if sep and port.isdigit() else authority


def resolve_target(
    found: HostMatch,
    host: str,
    path: str,
    request_headers: Mapping[str, str],
    response_headers: Mapping[str, str] | None,
) -> Target:
    """Complete a host match with the API id, stage and the REST/HTTP/WebSocket distinction."""
    surface = found.surface
    api_id = found.api_id
    if found.vpce and not api_id:
        api_id = request_headers.get("x-apigw-api-id") or _api_id_from_host_header(request_headers)
    path_only = path.split("?", 1)[0] or "/"
    if by_target := cognito_api_by_target(request_headers.get("x-amz-target")):
        # A Cognito API behind a custom endpoint or an emulator; the region, when the host names none, stays unknown.
        return Target(surface=by_target, host=host, region=found.region, path=path_only)
    if surface in ("rest", "custom"):
        if request_headers.get("upgrade", "").lower() == "websocket":
            surface = "websocket"
        elif response_headers is not None and "apigw-requestid" in response_headers:
            surface = "http" if found.surface == "rest" else "custom"
    if surface == "custom" and path_only.startswith("/oauth2/"):
        surface = "cognito-oauth"  # a Cognito custom domain named in apigw_hosts
    stage = None
    if surface in ("rest", "websocket") and found.surface == "rest":
        first = path_only.lstrip("/").split("/", 1)[0]
        stage = first or None
    return Target(
        surface=surface,
        host=host,
        api_id=api_id,
        region=found.region,
        stage=stage,
        path=path_only,
        vpce=found.vpce,
    )


def _api_id_from_host_header(headers: Mapping[str, str]) -> str | None:
    m = _EXECUTE_API.match(headers.get("host", "").lower().split(":", 1)[0])
    return m["id"] if m else None


def is_http_api(target: Target, response_headers: Mapping[str, str] | None) -> bool:
    """HTTP APIs (v2) answer with `apigw-requestid` (wire-reference "Who answered")."""
    return target.surface == "http" or bool(response_headers and "apigw-requestid" in response_headers)
