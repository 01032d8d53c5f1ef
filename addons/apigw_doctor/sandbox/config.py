"""What the sandbox gateway serves: APIs, routes, authorizers, keys. Plain data; `default_config` builds the demo's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .issuer import M2M_CLIENT_ID, OTHER_CLIENT_ID, SERVER_CLIENT_ID, WEB_CLIENT_ID, Issuer, Pool
from .sigv4 import Credentials
from .verify import KeyRing

RestAuth = Literal["none", "cognito", "lambda", "lambda-cached", "iam"]

REST_API_ID = "abc123defg"
EDGE_API_ID = "edge456hij"  # same routes, edge-optimized (CloudFront headers on every answer)
HTTP_API_ID = "xyz987hgfe"
# A second HTTP API with a `$default` route: with `$default` present no request can ever get the 404, so the
# preflight-behind-authorizer case needs its own API (wire-reference "Keys, policies, WAF, CORS", AWSDOC
# http-api-cors.md).
SPA_HTTP_API_ID = "spa789cors"
FUNCTION_URL_ID = "abcdefghijklmnopqrstuvwxyz012345"
COGNITO_DOMAIN_PREFIX = "sandbox"
# A custom domain in the reserved `.example` TLD; `v1` maps to the REST API's prod stage, nothing else is mapped.
CUSTOM_DOMAIN = "api.sandbox.example"
# Identity pool ids are `<region>:<uuid>`; these keep that shape and stay readable.
IDENTITY_POOL_ID = "us-east-1:5a4db0c0-1d3e-4b5f-8a9c-000000000001"
MISCONFIGURED_IDENTITY_POOL_ID = "us-east-1:5a4db0c0-1d3e-4b5f-8a9c-000000000002"  # roles do not trust it

# Documentation-style keys (the AWS docs' example key id); they open nothing outside the sandbox.
SANDBOX_CREDENTIALS = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
SANDBOX_API_KEY = "sandboxApiKey0123456789abcdefghijABCDEFGH"


@dataclass(frozen=True, slots=True)
class RestRoute:
    method: str
    path: str  # after the stage, e.g. "/items"
    auth: RestAuth = "none"
    scopes: tuple[str, ...] = ()  # method OAuth scopes (Cognito authorizer)
    api_key: bool = False


@dataclass(frozen=True, slots=True)
class RestApi:
    api_id: str
    routes: tuple[RestRoute, ...]
    issuers: tuple[str, ...]  # the Cognito authorizer's user pools (as issuer URLs)
    region: str = "us-east-1"
    stages: tuple[str, ...] = ("prod",)
    edge: bool = False
    lambda_rejects: tuple[str, ...] = ("bob",)  # users the simulated Lambda authorizer answers "Unauthorized"
    # AWS WAF web ACL with the managed rule SizeRestrictions_BODY: bodies over this many bytes are blocked before
    # API Gateway routes the request (github.com/aws/context-ontology-accelerator/issues/135). None: no web ACL.
    waf_body_limit: int | None = None

    @property
    def host(self) -> str:
        return f"{self.api_id}.execute-api.{self.region}.amazonaws.com"


@dataclass(frozen=True, slots=True)
class HttpRoute:
    route_key: str  # "GET /items", "ANY /x" or "$default"
    auth: Literal["none", "jwt"] = "jwt"
    scopes: tuple[str, ...] = ()
    # The integration checks a group claim itself and answers 401 on its own (a backend such as Quarkus behind
    # the gateway, github.com/quarkusio/quarkus/issues/28544); None: the integration accepts whatever passed.
    backend_group: str | None = None


@dataclass(frozen=True, slots=True)
class HttpApi:
    api_id: str
    routes: tuple[HttpRoute, ...]
    issuer: str
    audiences: tuple[str, ...]
    region: str = "us-east-1"

    @property
    def host(self) -> str:
        return f"{self.api_id}.execute-api.{self.region}.amazonaws.com"


@dataclass(frozen=True, slots=True)
class FunctionUrl:
    url_id: str
    auth_type: Literal["AWS_IAM", "NONE"] = "AWS_IAM"
    region: str = "us-east-1"

    @property
    def host(self) -> str:
        return f"{self.url_id}.lambda-url.{self.region}.on.aws"


@dataclass(frozen=True, slots=True)
class CognitoDomain:
    prefix: str
    pool_id: str
    region: str = "us-east-1"

    @property
    def host(self) -> str:
        return f"{self.prefix}.auth.{self.region}.amazoncognito.com"


@dataclass(frozen=True, slots=True)
class CustomDomain:
    """An API Gateway custom domain (regional): base path -> (REST API id, stage), as API mappings define them."""

    name: str
    mappings: tuple[tuple[str, str, str], ...]  # (base path without slashes, api id, stage)

    @property
    def host(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class IdentityPool:
    """A Cognito identity pool: its authentication providers (user pool issuer -> app client ids) and settings."""

    pool_id: str  # "<region>:<uuid>"
    providers: tuple[tuple[str, tuple[str, ...]], ...]  # (provider name, accepted app client ids)
    allow_unauthenticated: bool = False
    roles_trusted: bool = True  # False: the roles' trust policy does not trust this pool (role misconfiguration)

    @property
    def region(self) -> str:
        return self.pool_id.split(":", 1)[0]

    @property
    def host(self) -> str:
        return f"cognito-identity.{self.region}.amazonaws.com"


@dataclass
class GatewayConfig:
    rest_apis: list[RestApi] = field(default_factory=list)
    http_apis: list[HttpApi] = field(default_factory=list)
    function_urls: list[FunctionUrl] = field(default_factory=list)
    cognito_domains: list[CognitoDomain] = field(default_factory=list)
    custom_domains: list[CustomDomain] = field(default_factory=list)
    identity_pools: list[IdentityPool] = field(default_factory=list)
    identities: dict[str, tuple[str, str]] = field(default_factory=dict)  # IdentityId -> (identity pool, login sub)
    pools: dict[str, Pool] = field(default_factory=dict)  # pools whose Cognito endpoints the sandbox serves
    idp_regions: tuple[str, ...] = ("us-east-1",)  # serve cognito-idp.<region>.amazonaws.com for these
    keyring: KeyRing = field(default_factory=KeyRing)  # issuer -> JWKS, for every authorizer
    iam_keys: dict[str, str] = field(default_factory=dict)  # access key id -> secret
    api_keys: tuple[str, ...] = ()
    clock_offset: float = 0.0  # the gateway's clock = time.time() + offset (its Date header shows it)
    max_outcomes: int = 10_000
    authorizer_ttl: int = 300  # the caching Lambda authorizer's TTL (API Gateway's default)
    authorizer_cache: object = None  # its policy cache, made on first use (authorizer_cache.policy_cache)

    def hosts(self) -> list[str]:
        names = [a.host for a in self.rest_apis] + [a.host for a in self.http_apis]
        names += [f.host for f in self.function_urls] + [d.host for d in self.cognito_domains]
        names += sorted({p.host for p in self.identity_pools})
        names += [d.host for d in self.custom_domains]
        return names + [f"cognito-idp.{r}.amazonaws.com" for r in self.idp_regions]


def default_rest_routes() -> tuple[RestRoute, ...]:
    return (
        RestRoute("GET", "/items", "cognito"),
        RestRoute("GET", "/orders", "cognito", scopes=("orders/read",)),
        RestRoute("GET", "/lambda/items", "lambda"),
        # A caching TOKEN authorizer whose Allow names one method ARN (sandbox/authorizer_cache.py).
        RestRoute("GET", "/cached/items", "lambda-cached"),
        RestRoute("GET", "/cached/orders", "lambda-cached"),
        RestRoute("GET", "/iam/items", "iam"),
        RestRoute("GET", "/keyed/items", "none", api_key=True),
        RestRoute("GET", "/public", "none"),
    )


def default_config(issuer: Issuer, *, clock_offset: float = 0.0) -> GatewayConfig:
    """The demo sandbox: one trusted pool; the other two pools exist only to mint wrong-issuer tokens."""
    pool = issuer.pool
    keyring = KeyRing()
    for p in issuer.pools.values():
        keyring.add(p.issuer, p.jwks)
    routes = default_rest_routes()
    providers = ((pool.issuer.removeprefix("https://"), (WEB_CLIENT_ID,)),)
    return GatewayConfig(
        rest_apis=[
            RestApi(REST_API_ID, routes, issuers=(pool.issuer,), waf_body_limit=8 * 1024),
            RestApi(EDGE_API_ID, routes, issuers=(pool.issuer,), edge=True),
        ],
        http_apis=[
            HttpApi(
                HTTP_API_ID,
                (
                    HttpRoute("GET /items"),
                    HttpRoute("GET /admin", scopes=("admin/write",)),
                    HttpRoute("GET /reports", backend_group="reporting"),
                ),
                issuer=pool.issuer,
                audiences=(WEB_CLIENT_ID, SERVER_CLIENT_ID, M2M_CLIENT_ID),
            ),
            HttpApi(
                SPA_HTTP_API_ID,
                (HttpRoute("GET /items"), HttpRoute("$default")),
                issuer=pool.issuer,
                audiences=(WEB_CLIENT_ID,),
            ),
        ],
        function_urls=[FunctionUrl(FUNCTION_URL_ID)],
        cognito_domains=[CognitoDomain(COGNITO_DOMAIN_PREFIX, pool.pool_id)],
        custom_domains=[CustomDomain(CUSTOM_DOMAIN, (("v1", REST_API_ID, "prod"),))],
        identity_pools=[
            IdentityPool(IDENTITY_POOL_ID, providers),
            IdentityPool(MISCONFIGURED_IDENTITY_POOL_ID, providers, roles_trusted=False),
        ],
        pools=dict(issuer.pools),
        keyring=keyring,
        iam_keys={SANDBOX_CREDENTIALS.access_key_id: SANDBOX_CREDENTIALS.secret_access_key},
        api_keys=(SANDBOX_API_KEY,),
        clock_offset=clock_offset,
    )


__all__ = [
    "COGNITO_DOMAIN_PREFIX",
    "CUSTOM_DOMAIN",
    "EDGE_API_ID",
    "FUNCTION_URL_ID",
    "HTTP_API_ID",
    "IDENTITY_POOL_ID",
    "MISCONFIGURED_IDENTITY_POOL_ID",
    "OTHER_CLIENT_ID",
    "REST_API_ID",
    "SANDBOX_API_KEY",
    "SANDBOX_CREDENTIALS",
    "SPA_HTTP_API_ID",
    "CognitoDomain",
    "CustomDomain",
    "FunctionUrl",
    "GatewayConfig",
    "HttpApi",
    "HttpRoute",
    "IdentityPool",
    "RestApi",
    "RestRoute",
    "default_config",
    "default_rest_routes",
]
