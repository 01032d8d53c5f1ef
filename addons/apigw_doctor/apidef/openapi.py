"""OpenAPI 3 and Swagger 2 exports with the API Gateway extensions.

What `aws apigateway get-export --parameters extensions='apigateway'` and `aws apigatewayv2 export-api` write:
`x-amazon-apigateway-authorizer` on a security scheme (type, providerARNs, identitySource,
identityValidationExpression, authorizerResultTtlInSeconds, jwtConfiguration), per-operation `security` with
scopes, `x-amazon-apigateway-api-key-source`, `x-amazon-apigateway-auth` (IAM), servers / host + basePath.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..target import _match_aws_host
from .common import HTTP_METHODS, make_authorizer
from .model import Api, ApiKind, AuthKind, Authorizer, DefinitionError, Route, parse_identity_source

_ANY = "x-amazon-apigateway-any-method"


def is_openapi(doc: Any) -> bool:
    return isinstance(doc, dict) and ("openapi" in doc or "swagger" in doc) and isinstance(doc.get("paths"), dict)


def _kind(doc: dict[str, Any], schemes: dict[str, Any]) -> ApiKind | None:
    if "swagger" in doc or "x-amazon-apigateway-api-key-source" in doc:
        return "rest"  # HTTP APIs export OpenAPI 3 only, and have no API keys
    if "x-amazon-apigateway-importexport-version" in doc or "$default" in doc["paths"]:
        return "http"
    for scheme in schemes.values():
        ext = scheme.get("x-amazon-apigateway-authorizer") if isinstance(scheme, dict) else None
        if isinstance(ext, dict) and str(ext.get("type", "")).lower() == "jwt":
            return "http"
        if isinstance(scheme, dict) and "x-amazon-apigateway-authtype" in scheme:
            return "rest"  # REST exports mark each scheme with its auth type
    return None


def _servers(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """(host, base path) pairs from OpenAPI 3 servers (variables at their defaults) or Swagger host + basePath."""
    found = []
    if isinstance(doc.get("host"), str):
        found.append((doc["host"].lower(), str(doc.get("basePath") or "")))
    for server in doc.get("servers") or []:
        if not isinstance(server, dict) or not isinstance(server.get("url"), str):
            continue
        url = server["url"]
        for name, variable in (server.get("variables") or {}).items():
            if isinstance(variable, dict):
                url = url.replace("{" + str(name) + "}", str(variable.get("default", "")).strip("/"))
        parts = urlsplit(url if "//" in url else "https://" + url)
        if parts.hostname:
            found.append((parts.hostname.lower(), parts.path))
    return found


def parse_openapi(doc: dict[str, Any], origin: str) -> list[Api]:
    components = doc.get("components") if isinstance(doc.get("components"), dict) else {}
    schemes = components.get("securitySchemes") or doc.get("securityDefinitions") or {}
    if not isinstance(schemes, dict):
        raise DefinitionError(f"{origin}: securitySchemes: expected a mapping")
    api_kind = _kind(doc, schemes)
    authorizers: dict[str, Authorizer] = {}
    scheme_kind: dict[str, AuthKind | str] = {}
    for name, scheme in schemes.items():
        if not isinstance(scheme, dict):
            continue
        ext = scheme.get("x-amazon-apigateway-authorizer")
        authtype = str(scheme.get("x-amazon-apigateway-authtype", "")).lower()
        if isinstance(ext, dict):
            jwt = ext.get("jwtConfiguration") if isinstance(ext.get("jwtConfiguration"), dict) else {}
            header_name = scheme.get("name") if scheme.get("in") == "header" else None
            identity = ext.get("identitySource")
            if not identity and isinstance(header_name, str):  # REST exports name the token header in `name`
                identity = f"{'$request' if api_kind == 'http' else 'method.request'}.header.{header_name}"
            authorizer = make_authorizer(
                str(name),
                str(ext.get("type", "")),
                api_kind,
                provider_arns=ext.get("providerARNs") or [],
                issuer=jwt.get("issuer"),
                audiences=jwt.get("audience") or [],
                identity_source=identity,
                validation_expression=ext.get("identityValidationExpression"),
                ttl=ext.get("authorizerResultTtlInSeconds"),
                where=f"{origin}: securitySchemes.{name}",
            )
            authorizers[str(name)] = authorizer
            scheme_kind[str(name)] = authorizer.kind
        elif authtype == "awssigv4":
            scheme_kind[str(name)] = "iam"
        elif scheme.get("type") == "apiKey" and str(scheme.get("name", "")).lower() == "x-api-key":
            scheme_kind[str(name)] = "api-key"
    default_security = doc.get("security")
    stage_prefix = ""
    hosts: list[str] = []
    base_paths: list[str] = []
    api_id = region = None
    for host, base in _servers(doc):
        aws = _match_aws_host(host)
        if aws is not None and aws.surface == "rest":
            api_id, region = aws.api_id, aws.region
            stage_prefix = base.strip("/")
        else:
            hosts.append(host)
            if base.strip("/"):
                base_paths.append("/" + base.strip("/"))
    routes: list[Route] = []
    for path, item in doc["paths"].items():
        if not isinstance(item, dict):
            continue
        for key, operation in item.items():
            method = "ANY" if key == _ANY else key.upper()
            if (method not in HTTP_METHODS and method != "ANY") or not isinstance(operation, dict):
                continue
            route_path = "$default" if path == "$default" else "/" + str(path).strip("/")
            routes.append(_route(operation, method, route_path, default_security, authorizers, scheme_kind, origin))
    stages = None
    notes = (f"exported from stage {stage_prefix}",) if stage_prefix else ()
    return [
        Api(
            kind=api_kind,
            origin=origin,
            api_id=api_id,
            name=str((doc.get("info") or {}).get("title") or "") or None,
            region=region,
            stages=stages,
            exported_stage=stage_prefix or None,
            hosts=tuple(hosts),
            base_paths=tuple(base_paths),
            routes=tuple(routes),
            authorizers=tuple(authorizers.values()),
            api_key_source=str(doc["x-amazon-apigateway-api-key-source"]).upper()
            if "x-amazon-apigateway-api-key-source" in doc
            else None,
            notes=notes,
        )
    ]


def _route(
    operation: dict[str, Any],
    method: str,
    path: str,
    default_security: Any,
    authorizers: dict[str, Authorizer],
    scheme_kind: dict[str, Any],
    origin: str,
) -> Route:
    security = operation.get("security", default_security)
    auth: AuthKind = "none"
    authorizer: Authorizer | None = None
    scopes: list[str] = []
    api_key = False
    for requirement in security or []:
        if not isinstance(requirement, dict):
            continue
        for name, wanted in requirement.items():
            kind = scheme_kind.get(str(name))
            if kind == "api-key":
                api_key = True
            elif kind == "iam":
                auth = "iam"
            elif str(name) in authorizers:
                authorizer = authorizers[str(name)]
                auth = authorizer.kind
                scopes.extend(str(s) for s in wanted or [] if isinstance(s, str))
    iam = operation.get("x-amazon-apigateway-auth")
    if isinstance(iam, dict) and str(iam.get("type", "")).upper() == "AWS_IAM":
        auth = "iam"
    key = "$default" if path == "$default" else f"{method} {path}"
    return Route(method, path, auth, authorizer, tuple(scopes), api_key, f"{origin} {key}")


__all__ = ["is_openapi", "parse_identity_source", "parse_openapi"]
