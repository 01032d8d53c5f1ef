"""Shared by the parsers: authorizer types and pool references, in the words of each AWS input format."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..pools import parse_pool
from .model import ApiKind, AuthKind, Authorizer, DefinitionError, parse_identity_source

_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9_:.]{1,128})\}")
HTTP_METHODS = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH")

# Method/route authorization types (apigateway authorizationType, apigatewayv2 AuthorizationType).
METHOD_AUTH: dict[str, AuthKind] = {
    "NONE": "none",
    "AWS_IAM": "iam",
    "CUSTOM": "lambda",
    "COGNITO_USER_POOLS": "cognito",
    "JWT": "jwt",
}
# Authorizer types (apigateway type, apigatewayv2 AuthorizerType, OpenAPI extension type, in any case).
AUTHORIZER_KIND: dict[str, AuthKind] = {
    "COGNITO_USER_POOLS": "cognito",
    "TOKEN": "lambda",
    "REQUEST": "lambda",
    "JWT": "jwt",
}


def text(value: Any) -> str | None:
    """A plain string value, or None for anything unresolved (an intrinsic function, a list, nothing)."""
    return value if isinstance(value, str) else None


def describe_unresolved(value: Any) -> str:
    """Words for a value that cannot be known offline (a CloudFormation intrinsic, a Terraform reference)."""
    if isinstance(value, dict) and len(value) == 1:
        ((name, arg),) = value.items()
        if name == "Fn::GetAtt":
            target = arg if isinstance(arg, str) else ".".join(str(a) for a in arg) if isinstance(arg, list) else "?"
            return f"the {target.split('.', 1)[0]} resource of this template ({target})"
        if name == "Ref":
            return f"the {arg} parameter or resource of this template (Ref {arg})"
        if name == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
            rendered, names = _render_join(arg[0], arg[1])
            if rendered is not None:
                return f"{rendered} ({', '.join(names) or 'pseudo parameters'} known only after deployment)"
        if name == "Fn::Sub":
            template = arg if isinstance(arg, str) else str(arg[0]) if isinstance(arg, list) and arg else "?"
            names = sorted({n for n in _SUB_NAME.findall(template[:500]) if not n.startswith("AWS::")})
            return f"{template[:200]} ({', '.join(names) or 'pseudo parameters'} known only after deployment)"
        if name == "Fn::ImportValue":
            return "a value exported by another stack (Fn::ImportValue)"
        return f"a value computed at deploy time ({name})"
    return f"a value only known at deploy time ({str(value)[:60]})"


def _render_join(separator: Any, parts: list[Any]) -> tuple[str | None, list[str]]:
    """`Fn::Join` of strings and `Ref`s as one `${Name}` template, as CDK writes issuer URLs."""
    if not isinstance(separator, str):
        return None, []
    rendered, names = [], []
    for part in parts[:32]:
        if isinstance(part, str):
            rendered.append(part)
        elif isinstance(part, dict) and isinstance(part.get("Ref"), str):
            rendered.append("${" + part["Ref"] + "}")
            if not part["Ref"].startswith("AWS::"):
                names.append(part["Ref"])
        else:
            return None, []
    return separator.join(rendered)[:200], names


def pool_issuers(values: Iterable[Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(issuer URLs, words for the pools that cannot be resolved offline) from provider ARNs or pool ids."""
    issuers: list[str] = []
    unresolved: list[str] = []
    for value in values:
        literal = text(value)
        if literal is not None and "${" not in literal:
            try:
                issuers.append(parse_pool(literal))
                continue
            except ValueError:
                pass
        unresolved.append("pool: " + (describe_unresolved(value) if literal is None else f"{literal} (not literal)"))
    return tuple(issuers), tuple(unresolved)


def split_sources(value: Any) -> list[str]:
    if isinstance(value, list):
        return [v.strip() for v in value if isinstance(v, str) and v.strip()]
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return []


def make_authorizer(
    name: str,
    type_name: str | None,
    api_kind: ApiKind | None,
    *,
    provider_arns: Iterable[Any] = (),
    issuer: Any = None,
    audiences: Iterable[Any] = (),
    identity_source: Any = None,
    validation_expression: Any = None,
    ttl: Any = None,
    where: str = "",
) -> Authorizer:
    kind = AUTHORIZER_KIND.get((type_name or "").upper())
    if kind is None:
        raise DefinitionError(
            f"{where}: authorizer {name!r} has type {type_name!r}; expected TOKEN, REQUEST, COGNITO_USER_POOLS or JWT"
        )
    issuers, unresolved = pool_issuers(provider_arns)
    if kind == "jwt":
        if text(issuer):
            issuers = (issuer,)  # an HTTP API compares iss as an exact string: keep it as written
        elif issuer is not None:
            unresolved = ("issuer: " + describe_unresolved(issuer),)
    auds = []
    for a in audiences:
        if text(a):
            auds.append(a)
        else:
            unresolved = (*unresolved, "audience: " + describe_unresolved(a))
    sources = tuple(parse_identity_source(s, api_kind) for s in split_sources(identity_source))
    lambda_type = (type_name or "").upper() if kind == "lambda" else None
    if not sources and (kind in ("cognito", "jwt") or lambda_type == "TOKEN"):
        default = "$request.header.Authorization" if api_kind == "http" else "method.request.header.Authorization"
        sources = (parse_identity_source(default, api_kind),)
    ttl_value = ttl if isinstance(ttl, int) and not isinstance(ttl, bool) else None
    expression = text(validation_expression) or None
    return Authorizer(
        name=name,
        kind=kind,
        issuers=issuers,
        unresolved=unresolved,
        audiences=tuple(auds),
        identity_sources=sources,
        validation_expression=expression,
        ttl=ttl_value,
        lambda_type=lambda_type,
    )
