"""The sandbox's own API definition: an OpenAPI 3 export of each REST API, built from `config.py`'s data.

Shaped like `aws apigateway get-export --export-type oas30 --parameters extensions='apigateway'`: one document per
API, the stage in `servers`, each authorizer a security scheme with `x-amazon-apigateway-authorizer`, per-method
`security` with scopes, `x-amazon-apigateway-api-key-source`. The demo passes these files as `apigw_api_spec`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .authorizer_cache import ACCOUNT_ID
from .config import GatewayConfig, RestApi, RestRoute

_INTEGRATION_FUNCTION = "sandbox-backend"


def _function_uri(region: str, function: str) -> str:
    return (
        f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/"
        f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function}/invocations"
    )


def _pool_arn(issuer: str) -> str:
    """https://cognito-idp.<region>.amazonaws.com/<pool id> -> the user pool's ARN."""
    region = issuer.split("cognito-idp.", 1)[1].split(".", 1)[0]
    return f"arn:aws:cognito-idp:{region}:{ACCOUNT_ID}:userpool/{issuer.rsplit('/', 1)[1]}"


def _scheme(api: RestApi, route: RestRoute, ttl: int) -> tuple[str, dict[str, Any]] | None:
    """The security scheme (name, object) of a route's authorizer; None for an open method."""
    if route.auth == "cognito":
        authorizer = {"type": "cognito_user_pools", "providerARNs": [_pool_arn(i) for i in api.issuers]}
        return "CognitoAuth", _header_scheme("Authorization", "cognito_user_pools", authorizer)
    if route.auth in ("lambda", "lambda-cached"):
        cached = route.auth == "lambda-cached"
        authorizer = {
            "type": "token",
            "authorizerUri": _function_uri(api.region, "cached-authorizer" if cached else "token-authorizer"),
            "authorizerResultTtlInSeconds": ttl if cached else 0,
        }
        if route.validation_expression:
            authorizer["identityValidationExpression"] = route.validation_expression
        # One authorizer per distinct configuration, named as a console user would.
        name = "CachedTokenAuth" if cached else "TokenAuth"
        if route.identity_header.lower() != "authorization":
            name += "_" + "".join(c for c in route.identity_header if c.isalnum())
        if route.validation_expression:
            name += "_Validated"
        return name, _header_scheme(route.identity_header, "custom", authorizer)
    if route.auth == "iam":
        return "sigv4", {"type": "apiKey", "name": "Authorization", "in": "header",
                         "x-amazon-apigateway-authtype": "awsSigv4"}  # fmt: skip
    return None


def _header_scheme(header: str, authtype: str, authorizer: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "apiKey",
        "name": header,
        "in": "header",
        "x-amazon-apigateway-authtype": authtype,
        "x-amazon-apigateway-authorizer": authorizer,
    }


def openapi_export(api: RestApi, *, stage: str | None = None, ttl: int = 300) -> dict[str, Any]:
    """The OpenAPI 3 export (with API Gateway extensions) of one REST API's stage (default: its first)."""
    schemes: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for route in api.routes:
        operation: dict[str, Any] = {}
        security: list[dict[str, list[str]]] = []
        if route.api_key:
            schemes["api_key"] = {"type": "apiKey", "name": "x-api-key", "in": "header"}
            security.append({"api_key": []})
        scheme = _scheme(api, route, ttl)
        if scheme is not None:
            schemes[scheme[0]] = scheme[1]
            security.append({scheme[0]: list(route.scopes)})
        if security:
            operation["security"] = security
        operation["x-amazon-apigateway-integration"] = {
            "httpMethod": "POST",
            "uri": _function_uri(api.region, _INTEGRATION_FUNCTION),
            "passthroughBehavior": "when_no_match",
            "type": "aws_proxy",
        }
        key = "x-amazon-apigateway-any-method" if route.method == "ANY" else route.method.lower()
        paths.setdefault(route.path, {})[key] = operation
    return {
        "openapi": "3.0.1",
        "info": {"title": f"sandbox-{api.api_id}", "version": "1"},
        "servers": [
            {
                "url": f"https://{api.host}/{{basePath}}",
                "variables": {"basePath": {"default": stage or api.stages[0]}},
            }
        ],
        "paths": paths,
        "components": {"securitySchemes": schemes},
        "x-amazon-apigateway-api-key-source": "HEADER",
    }


def write_exports(cfg: GatewayConfig, directory: Path) -> list[Path]:
    """Write `<api id>-oas30.json` for each REST API into `directory`; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for api in cfg.rest_apis:
        path = directory / f"{api.api_id}-oas30.json"
        path.write_text(json.dumps(openapi_export(api, ttl=cfg.authorizer_ttl), indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


__all__ = ["openapi_export", "write_exports"]
