"""`terraform show -json` of a state or a plan: aws_api_gateway_* and aws_apigatewayv2_* resources.

A state has every id; a plan leaves ids of resources not created yet unknown, so resources are linked by id when
known and otherwise by the references in the plan's `configuration` section.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .common import METHOD_AUTH, make_authorizer
from .model import Api, Authorizer, Route


def is_terraform(doc: Any) -> bool:
    return (
        isinstance(doc, dict)
        and "format_version" in doc
        and any(isinstance(doc.get(k), dict) for k in ("values", "planned_values"))
    )


def _modules(module: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if not isinstance(module, dict) or depth > 32:
        return
    yield module
    for child in module.get("child_modules") or []:
        yield from _modules(child, depth + 1)


def _references(doc: dict[str, Any]) -> dict[str, dict[str, str]]:
    """address -> attribute -> the address it references (plan configuration; root and module calls)."""
    found: dict[str, dict[str, str]] = {}

    def walk(module: Any, prefix: str, depth: int) -> None:
        if not isinstance(module, dict) or depth > 32:
            return
        for resource in module.get("resources") or []:
            address = prefix + str(resource.get("address"))
            for attr, expr in (resource.get("expressions") or {}).items():
                refs = expr.get("references") if isinstance(expr, dict) else None
                if refs:
                    target = next((r for r in refs if r.count(".") == 1), refs[-1])
                    found.setdefault(address, {})[attr] = prefix + target
        for name, call in (module.get("module_calls") or {}).items():
            walk(call.get("module") if isinstance(call, dict) else None, f"{prefix}module.{name}.", depth + 1)

    walk((doc.get("configuration") or {}).get("root_module"), "", 0)
    return found


def parse_terraform(doc: dict[str, Any], origin: str) -> list[Api]:
    root = (doc.get("values") or doc.get("planned_values") or {}).get("root_module")
    resources = [r for m in _modules(root) for r in m.get("resources") or [] if isinstance(r, dict)]
    refs = _references(doc)

    def of_type(name: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (str(r.get("address")), r.get("values") or {})
            for r in resources
            if r.get("type") == name and r.get("mode", "managed") == "managed"
        ]

    def key_of(address: str, values: dict[str, Any]) -> str:
        return str(values["id"]) if values.get("id") else address

    def link(address: str, values: dict[str, Any], attr: str) -> str | None:
        """The id (state) or the address (plan) of what `attr` points to."""
        if values.get(attr):
            return str(values[attr])
        return refs.get(address, {}).get(attr)

    apis = []
    for api_address, api in of_type("aws_api_gateway_rest_api"):
        api_key = key_of(api_address, api)
        ids = {api_key, api_address}
        authorizers: dict[str, Authorizer] = {}
        for address, a in of_type("aws_api_gateway_authorizer"):
            if link(address, a, "rest_api_id") in ids:
                authorizers[key_of(address, a)] = authorizers[address] = make_authorizer(
                    str(a.get("name") or address),
                    str(a.get("type") or "TOKEN"),
                    "rest",
                    provider_arns=sorted(a.get("provider_arns") or []),
                    identity_source=a.get("identity_source"),
                    validation_expression=a.get("identity_validation_expression"),
                    ttl=a.get("authorizer_result_ttl_in_seconds"),
                    where=f"{origin}: {address}",
                )
        paths: dict[str, str] = {}
        root_id = str(api.get("root_resource_id") or "")
        if root_id:
            paths[root_id] = "/"
        paths[f"{api_address}.root_resource_id"] = "/"
        for address, r in of_type("aws_api_gateway_resource"):
            if link(address, r, "rest_api_id") in ids and r.get("path"):
                paths[key_of(address, r)] = paths[address] = str(r["path"])
        routes = []
        for address, m in of_type("aws_api_gateway_method"):
            if link(address, m, "rest_api_id") not in ids:
                continue
            resource = link(address, m, "resource_id")
            path = paths.get(resource or "")
            if path is None and resource and resource.endswith(".root_resource_id"):
                path = "/"
            method = str(m.get("http_method") or "").upper()
            if path is None or not method:
                continue
            auth = METHOD_AUTH.get(str(m.get("authorization") or "NONE").upper(), "unknown")
            authorizer = authorizers.get(link(address, m, "authorizer_id") or "")
            if auth in ("cognito", "lambda") and authorizer is None:
                auth = "unknown"
            scopes = tuple(sorted(str(s) for s in m.get("authorization_scopes") or []))
            routes.append(
                Route(
                    method,
                    path,
                    auth,
                    authorizer,
                    scopes,
                    bool(m.get("api_key_required")),
                    f"{origin} {method} {path} ({address})",
                )
            )
        stages = [
            str(s.get("stage_name"))
            for address, s in of_type("aws_api_gateway_stage")
            if link(address, s, "rest_api_id") in ids and s.get("stage_name")
        ]
        apis.append(
            Api(
                "rest",
                origin,
                api.get("id"),
                api.get("name"),
                stages=tuple(stages) if stages else None,
                routes=tuple(routes),
                authorizers=tuple(dict.fromkeys(authorizers.values())),
                api_key_source=api.get("api_key_source"),
            )
        )
    for api_address, api in of_type("aws_apigatewayv2_api"):
        if str(api.get("protocol_type", "HTTP")).upper() != "HTTP":
            continue
        ids = {key_of(api_address, api), api_address}
        authorizers = {}
        for address, a in of_type("aws_apigatewayv2_authorizer"):
            if link(address, a, "api_id") not in ids:
                continue
            jwt = (a.get("jwt_configuration") or [{}])[0] or {}
            authorizers[key_of(address, a)] = authorizers[address] = make_authorizer(
                str(a.get("name") or address),
                str(a.get("authorizer_type")),
                "http",
                issuer=jwt.get("issuer"),
                audiences=sorted(jwt.get("audience") or []),
                identity_source=sorted(a.get("identity_sources") or []),
                ttl=a.get("authorizer_result_ttl_in_seconds"),
                where=f"{origin}: {address}",
            )
        routes = []
        for address, r in of_type("aws_apigatewayv2_route"):
            if link(address, r, "api_id") not in ids or not r.get("route_key"):
                continue
            key = str(r["route_key"])
            method, _, path = key.partition(" ")
            if key == "$default":
                method, path = "ANY", "$default"
            elif not path:
                continue
            auth = METHOD_AUTH.get(str(r.get("authorization_type") or "NONE").upper(), "unknown")
            authorizer = authorizers.get(link(address, r, "authorizer_id") or "")
            if auth in ("jwt", "lambda") and authorizer is None:
                auth = "unknown"
            scopes = tuple(sorted(str(s) for s in r.get("authorization_scopes") or []))
            routes.append(Route(method.upper(), path, auth, authorizer, scopes, False, f"{origin} {key} ({address})"))
        stages = [
            str(s.get("name"))
            for address, s in of_type("aws_apigatewayv2_stage")
            if link(address, s, "api_id") in ids and s.get("name")
        ]
        apis.append(
            Api(
                "http",
                origin,
                api.get("id"),
                api.get("name"),
                stages=tuple(stages) if stages else None,
                routes=tuple(routes),
                authorizers=tuple(dict.fromkeys(authorizers.values())),
            )
        )
    return apis
