"""What successful flows taught the engine: the baseline a failing request is compared with.

Two levels: per API (issuers, app clients, signing keys) and per route (token types, scopes, credential kinds),
because an API trusts one pool while each method may want its own token type and scopes. Both are bounded.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from .model import Credential, Token

_MAX_APIS = 256
_MAX_ROUTES = 2048
_MAX_VALUES = 8


def _add(values: set[str], value: object) -> None:
    if isinstance(value, str) and value and len(values) < _MAX_VALUES:
        values.add(value)


@dataclass(slots=True)
class ApiBaseline:
    issuers: set[str] = field(default_factory=set)
    clients: set[str] = field(default_factory=set)
    kids: dict[str, set[str]] = field(default_factory=dict)  # "<iss> <token_use>" -> kids seen
    credential_kinds: set[str] = field(default_factory=set)  # e.g. {"jwt", "sigv4"}: a mixed API
    successes: int = 0


@dataclass(slots=True)
class RouteBaseline:
    token_uses: set[str] = field(default_factory=set)
    scopes: set[str] = field(default_factory=set)
    credential_kinds: set[str] = field(default_factory=set)
    successes: int = 0


def kid_key(token: Token) -> str:
    return f"{token.issuer} {token.token_use}"


class Baseline:
    def __init__(self) -> None:
        self._apis: OrderedDict[str, ApiBaseline] = OrderedDict()
        self._routes: OrderedDict[str, RouteBaseline] = OrderedDict()

    def learn(self, api_key: str, route_key: str, credential: Credential, token: Token | None) -> None:
        route = _entry(self._routes, route_key, RouteBaseline, _MAX_ROUTES)
        route.successes += 1
        _add(route.credential_kinds, credential.kind)
        api = _entry(self._apis, api_key, ApiBaseline, _MAX_APIS)
        api.successes += 1
        _add(api.credential_kinds, credential.kind)
        if token is None or token.problems or token.encrypted:
            return
        _add(route.token_uses, token.token_use)
        for scope in token.scopes[:_MAX_VALUES]:
            _add(route.scopes, scope)
        _add(api.issuers, token.issuer)
        _add(api.clients, token.claims.get("aud") or token.claims.get("client_id"))
        if len(api.kids) < _MAX_VALUES:
            _add(api.kids.setdefault(kid_key(token), set()), token.header.get("kid"))

    def api(self, api_key: str) -> ApiBaseline | None:
        return self._apis.get(api_key)

    def route(self, route_key: str) -> RouteBaseline | None:
        return self._routes.get(route_key)


def _entry[T](table: OrderedDict[str, T], key: str, make: type[T], limit: int) -> T:
    found = table.get(key)
    if found is None:
        if len(table) >= limit:
            table.popitem(last=False)  # forget the oldest API or route
        found = table[key] = make()
    return found
