"""The API definition, reduced to what an authorizer verdict needs: APIs, their routes and authorizers.

Every parser (OpenAPI exports, AWS CLI JSON, CloudFormation/SAM/CDK, Terraform, the `discover` cache) produces
these values. A value the input does not resolve offline stays unknown and says so (`unresolved`), never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

AuthKind = Literal["cognito", "jwt", "lambda", "iam", "none", "unknown"]
ApiKind = Literal["rest", "http", "websocket"]

# `method.request.header.X` (REST), `$request.header.X` (HTTP API); anything else is not a header.
_REST_HEADER = re.compile(r"^method\.request\.header\.(?P<name>[A-Za-z0-9!#$%&'*+.^_`|~-]+)$")
_HTTP_HEADER = re.compile(r"^\$request\.header\.(?P<name>[A-Za-z0-9!#$%&'*+.^_`|~-]+)$")
_HEADER_TOKEN = re.compile(r"^[A-Za-z0-9-]+$")


class DefinitionError(ValueError):
    """A definition that cannot be used; the message is one line: which file, where, and why."""


@dataclass(frozen=True, slots=True)
class IdentitySource:
    """Where the authorizer reads the credential from, as written in the definition."""

    raw: str  # e.g. "method.request.header.Authorization" or "$request.header.Authorization"
    header: str | None  # lower-case header name, when the source is a header
    problem: str | None = None  # e.g. "the prefix is written twice"


def parse_identity_source(raw: str, api_kind: ApiKind | None) -> IdentitySource:
    """One identity source expression; a header name that no client would send is reported, not fixed."""
    text = raw.strip()
    m = _REST_HEADER.match(text) or _HTTP_HEADER.match(text)
    if m is None:
        if _HEADER_TOKEN.match(text) and api_kind != "http":
            # SAM's `Identity: Header: Authorization` and the OpenAPI securityScheme `name` hold a bare header name.
            return IdentitySource(raw, text.lower())
        return IdentitySource(raw, None, None if "." in text or "$" in text else "not a header reference")
    name = m["name"]
    for prefix in ("method.request.header.", "$request.header."):
        if name.lower().startswith(prefix) or prefix in name.lower():
            return IdentitySource(
                raw,
                name.lower(),
                f"the prefix {prefix} is written twice, so the authorizer reads a header literally named {name}",
            )
    if "." in name:
        return IdentitySource(raw, name.lower(), f"the header name {name} contains dots; no client sends it")
    return IdentitySource(raw, name.lower())


@dataclass(frozen=True, slots=True)
class Authorizer:
    name: str
    kind: AuthKind
    issuers: tuple[str, ...] = ()  # resolved issuer URLs (Cognito pools become their issuer URL)
    unresolved: tuple[str, ...] = ()  # what could not be resolved offline, in words
    audiences: tuple[str, ...] = ()
    identity_sources: tuple[IdentitySource, ...] = ()
    validation_expression: str | None = None
    ttl: int | None = None  # authorizerResultTtlInSeconds
    lambda_type: str | None = None  # TOKEN or REQUEST (REST Lambda authorizers)

    @property
    def identity_header(self) -> str | None:
        for source in self.identity_sources:
            if source.header:
                return source.header
        return None

    @property
    def identity_problem(self) -> IdentitySource | None:
        return next((s for s in self.identity_sources if s.problem), None)


@dataclass(frozen=True, slots=True)
class Route:
    method: str  # upper case; "ANY" for any method; "$default" for the HTTP API catch-all
    path: str  # "/items/{id}", "/{proxy+}" or "$default"
    auth: AuthKind
    authorizer: Authorizer | None = None
    scopes: tuple[str, ...] = ()
    api_key_required: bool | None = None  # None: the definition does not say
    source: str = ""  # "file:PATH METHOD /path" or "aws API_ID METHOD /path"

    @property
    def key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True, slots=True)
class Api:
    kind: ApiKind | None
    origin: str  # "file:PATH" or "aws"
    api_id: str | None = None
    name: str | None = None
    region: str | None = None
    stages: tuple[str, ...] | None = None  # deployed stages when the input lists them; None: unknown
    exported_stage: str | None = None  # the one stage an export was taken from (it exists; others may too)
    hosts: tuple[str, ...] = ()  # custom domain names from servers/host
    base_paths: tuple[str, ...] = ()  # base path mappings ("/v1") or the exported stage basePath
    routes: tuple[Route, ...] = ()
    authorizers: tuple[Authorizer, ...] = ()
    api_key_source: str | None = None  # HEADER or AUTHORIZER
    usage_plan_stages: tuple[str, ...] | None = None  # "API_ID/STAGE" entries of usage plans, when known
    notes: tuple[str, ...] = field(default=())

    def source_of(self, route: Route) -> str:
        return route.source or f"{self.origin} {route.key}"


@dataclass(frozen=True, slots=True)
class Definitions:
    apis: tuple[Api, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.apis)

    def describe(self) -> str:
        """'2 APIs, 14 routes, 3 authorizers' for the start-up line."""
        apis = len(self.apis)
        routes = sum(len(a.routes) for a in self.apis)
        authorizers = sum(len(a.authorizers) for a in self.apis)

        def n(count: int, word: str) -> str:
            return f"{count} {word}{'' if count == 1 else 's'}"

        return f"{n(apis, 'API')}, {n(routes, 'route')}, {n(authorizers, 'authorizer')}"
