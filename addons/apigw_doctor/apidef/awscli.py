"""AWS CLI JSON (and the same shapes from boto3): apigateway get-authorizers / get-resources --embed methods /
get-stages / get-usage-plans, and apigatewayv2 get-authorizers / get-routes / get-stages.

A file holds one command's output; several files together describe one API. The outputs carry no API id, so
files given without one describe "the API" (they apply to any watched API), unless the `discover` cache names it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .common import METHOD_AUTH, make_authorizer
from .model import Api, ApiKind, Authorizer, DefinitionError, Route

FRAGMENT_KINDS = ("authorizers", "resources", "routes", "stages", "usage-plans")


@dataclass(slots=True)
class Fragments:
    """The outputs that describe one API, by protocol family and command."""

    rest: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    http: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    files: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (family, command) -> origins


def _classify(item: dict[str, Any]) -> tuple[str, str] | None:
    """(family, command) of one output item, by its fields."""
    if "RouteKey" in item:
        return "http", "routes"
    if "AuthorizerType" in item:
        return "http", "authorizers"
    if "StageName" in item:
        return "http", "stages"
    if "resourceMethods" in item or ("path" in item and "id" in item):
        return "rest", "resources"
    if "apiStages" in item:
        return "rest", "usage-plans"
    if "stageName" in item:
        return "rest", "stages"
    if "type" in item and ("authorizerUri" in item or "providerARNs" in item or "identitySource" in item):
        return "rest", "authorizers"
    return None


def is_cli_output(doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    items = doc.get("items", doc.get("Items", doc.get("item")))
    return isinstance(items, list) and (not items or (isinstance(items[0], dict) and _classify(items[0]) is not None))


def add_cli_output(doc: dict[str, Any], origin: str, into: Fragments) -> None:
    items = doc.get("items", doc.get("Items", doc.get("item"))) or []
    for index, item in enumerate(items):
        found = _classify(item) if isinstance(item, dict) else None
        if found is None:
            raise DefinitionError(f"{origin}: items[{index}]: not an authorizer, resource, route or stage")
        family, command = found
        table = into.rest if family == "rest" else into.http
        table.setdefault(command, []).append(item)
        files = into.files.setdefault((family, command), [])
        if origin not in files:
            files.append(origin)


def assemble(parts: Fragments, api_id: str | None = None, region: str | None = None, aws: bool = False) -> list[Api]:
    apis = []
    for family, table, build in (("rest", parts.rest, _rest), ("http", parts.http, _http)):
        if not table:
            continue
        if aws:
            origin = route_origin = "aws"
        else:
            files = [f for (fam, _), names in parts.files.items() if fam == family for f in names]
            origin = "file:" + " + ".join(dict.fromkeys(f.removeprefix("file:") for f in files))
            routes_files = parts.files.get((family, "resources" if family == "rest" else "routes"), [origin])
            route_origin = routes_files[0]
        apis.append(build(table, origin, route_origin, api_id, region))
    return apis


def _source(origin: str, api_id: str | None, key: str) -> str:
    return f"aws {api_id} {key}" if origin == "aws" else f"{origin} {key}"


def _rest(
    parts: dict[str, list[dict[str, Any]]], origin: str, route_origin: str, api_id: str | None, region: str | None
) -> Api:
    authorizers = {
        str(a.get("id")): make_authorizer(
            str(a.get("name") or a.get("id")),
            str(a.get("type")),
            "rest",
            provider_arns=a.get("providerARNs") or [],
            identity_source=a.get("identitySource"),
            validation_expression=a.get("identityValidationExpression"),
            ttl=a.get("authorizerResultTtlInSeconds"),
            where=f"{origin}: authorizer {a.get('id')}",
        )
        for a in parts.get("authorizers", [])
    }
    routes = []
    for resource in parts.get("resources", []):
        path = str(resource.get("path") or "/")
        for name, value in (resource.get("resourceMethods") or {}).items():
            method = value if isinstance(value, dict) else {}
            verb = str(name).upper()
            auth = METHOD_AUTH.get(str(method.get("authorizationType", "")).upper(), "unknown")
            authorizer = authorizers.get(str(method.get("authorizerId")))
            if auth in ("cognito", "lambda") and authorizer is None and "authorizerId" in method:
                auth = "unknown"
            scopes = tuple(str(s) for s in method.get("authorizationScopes") or [])
            key_required = method.get("apiKeyRequired") if isinstance(method.get("apiKeyRequired"), bool) else None
            routes.append(
                Route(
                    verb, path, auth, authorizer, scopes, key_required, _source(route_origin, api_id, f"{verb} {path}")
                )
            )
    stages = tuple(str(s.get("stageName")) for s in parts.get("stages", [])) if "stages" in parts else None
    plans = None
    if "usage-plans" in parts:
        plans = tuple(
            f"{s.get('apiId')}/{s.get('stage')}"
            for p in parts["usage-plans"]
            for s in p.get("apiStages") or []
            if isinstance(s, dict)
        )
    return Api(
        "rest",
        origin,
        api_id,
        region=region,
        stages=stages,
        routes=tuple(routes),
        authorizers=tuple(authorizers.values()),
        usage_plan_stages=plans,
    )


def _http(
    parts: dict[str, list[dict[str, Any]]], origin: str, route_origin: str, api_id: str | None, region: str | None
) -> Api:
    authorizers: dict[str, Authorizer] = {}
    for a in parts.get("authorizers", []):
        jwt = a.get("JwtConfiguration") if isinstance(a.get("JwtConfiguration"), dict) else {}
        authorizers[str(a.get("AuthorizerId"))] = make_authorizer(
            str(a.get("Name") or a.get("AuthorizerId")),
            str(a.get("AuthorizerType")),
            "http",
            issuer=jwt.get("Issuer"),
            audiences=jwt.get("Audience") or [],
            identity_source=a.get("IdentitySource"),
            ttl=a.get("AuthorizerResultTtlInSeconds"),
            where=f"{origin}: authorizer {a.get('AuthorizerId')}",
        )
    routes = []
    for route in parts.get("routes", []):
        key = str(route.get("RouteKey", ""))
        method, _, path = key.partition(" ")
        if key == "$default":
            method, path = "ANY", "$default"
        elif not path:
            continue  # WebSocket route keys ($connect, actions) are not HTTP routes
        auth = METHOD_AUTH.get(str(route.get("AuthorizationType", "NONE")).upper(), "unknown")
        authorizer = authorizers.get(str(route.get("AuthorizerId")))
        if auth in ("jwt", "lambda") and authorizer is None and route.get("AuthorizerId"):
            auth = "unknown"
        scopes = tuple(str(s) for s in route.get("AuthorizationScopes") or [])
        routes.append(Route(method.upper(), path, auth, authorizer, scopes, False, _source(route_origin, api_id, key)))
    stages = tuple(str(s.get("StageName")) for s in parts.get("stages", [])) if "stages" in parts else None
    return Api(
        "http",
        origin,
        api_id,
        region=region,
        stages=stages,
        routes=tuple(routes),
        authorizers=tuple(authorizers.values()),
    )


def is_discover_cache(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("apigwDoctorDiscover") == 1 and isinstance(doc.get("apis"), list)


def parse_discover_cache(doc: dict[str, Any], origin: str) -> list[Api]:
    """The file `apigw-doctor discover` writes: the raw read-only AWS responses, per API."""
    apis: list[Api] = []
    for index, entry in enumerate(doc["apis"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("apiId"), str):
            raise DefinitionError(f"{origin}: apis[{index}]: no apiId")
        parts = Fragments()
        for name in ("authorizers", "resources", "routes", "stages", "usagePlans"):
            if isinstance(entry.get(name), dict):
                add_cli_output(entry[name], f"{origin}: apis[{index}].{name}", parts)
                if not (entry[name].get("items") or entry[name].get("Items") or entry[name].get("item")):
                    family = parts.http if str(entry.get("protocol")).upper() == "HTTP" else parts.rest
                    family.setdefault("usage-plans" if name == "usagePlans" else name, [])
        found = assemble(parts, entry["apiId"], entry.get("region") or doc.get("region"), aws=True)
        for api in found:
            apis.append(_with(api, name=entry.get("name"), kind=_protocol(entry.get("protocol"), api.kind)))
    return apis


def _protocol(value: Any, default: ApiKind | None) -> ApiKind | None:
    return {"REST": "rest", "HTTP": "http", "WEBSOCKET": "websocket"}.get(str(value).upper(), default)  # type: ignore[return-value]


def _with(api: Api, **changes: Any) -> Api:
    from dataclasses import replace

    return replace(api, **{k: v for k, v in changes.items() if v is not None})
