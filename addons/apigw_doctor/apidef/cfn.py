"""CloudFormation, SAM and CDK (`cdk.out/*.template.json`) templates.

Reads `AWS::Serverless::Api` / `HttpApi` `Auth` (authorizers, default authorizer, per-event `Auth` with scopes
and `ApiKeyRequired`), `AWS::ApiGateway::Authorizer` / `Resource` / `Method` / `Stage` and
`AWS::ApiGatewayV2::Authorizer` / `Route` / `Stage`. Pool ids are only known after deployment unless written
literally: a `!GetAtt` of a pool in the template is named as that resource, never guessed.
"""

from __future__ import annotations

from typing import Any

from .common import METHOD_AUTH, describe_unresolved, make_authorizer, text
from .model import Api, ApiKind, AuthKind, Authorizer, DefinitionError, Route

_IMPLICIT_REST = "ServerlessRestApi"
_IMPLICIT_HTTP = "ServerlessHttpApi"


def is_template(doc: Any) -> bool:
    if not isinstance(doc, dict) or not isinstance(doc.get("Resources"), dict):
        return False
    return any(isinstance(r, dict) and str(r.get("Type", "")).startswith("AWS::") for r in doc["Resources"].values())


def _ref(value: Any) -> str | None:
    """The logical id a `Ref` or `Fn::GetAtt` points to."""
    if isinstance(value, dict) and len(value) == 1:
        if "Ref" in value and isinstance(value["Ref"], str):
            return value["Ref"]
        att = value.get("Fn::GetAtt")
        if isinstance(att, list) and att and isinstance(att[0], str):
            return att[0]
    return None


class _Template:
    def __init__(self, doc: dict[str, Any], origin: str) -> None:
        self.origin = origin
        self.resources: dict[str, dict[str, Any]] = {
            str(k): v for k, v in doc["Resources"].items() if isinstance(v, dict)
        }
        globals_ = doc.get("Globals") if isinstance(doc.get("Globals"), dict) else {}
        self.globals = {k: v for k, v in globals_.items() if isinstance(v, dict)}

    def of_type(self, *types: str) -> list[tuple[str, dict[str, Any]]]:
        return [(name, self.props(r)) for name, r in self.resources.items() if r.get("Type") in types]

    @staticmethod
    def props(resource: dict[str, Any]) -> dict[str, Any]:
        props = resource.get("Properties")
        return props if isinstance(props, dict) else {}


def parse_template(doc: dict[str, Any], origin: str) -> list[Api]:
    t = _Template(doc, origin)
    apis = _sam(t) + _rest(t) + _http(t)
    return apis


# -- SAM ---------------------------------------------------------------------------------------------------------


def _sam_authorizers(auth: dict[str, Any], api_kind: ApiKind, where: str) -> dict[str, Authorizer]:
    found: dict[str, Authorizer] = {}
    for name, spec in (auth.get("Authorizers") or {}).items():
        if not isinstance(spec, dict):
            continue
        identity = spec.get("Identity") if isinstance(spec.get("Identity"), dict) else {}
        here = f"{where}.Auth.Authorizers.{name}"
        if "UserPoolArn" in spec:
            arns = spec["UserPoolArn"] if isinstance(spec["UserPoolArn"], list) else [spec["UserPoolArn"]]
            found[str(name)] = make_authorizer(
                str(name),
                "COGNITO_USER_POOLS",
                api_kind,
                provider_arns=arns,
                identity_source=identity.get("Header", "Authorization"),
                validation_expression=identity.get("ValidationExpression"),
                ttl=identity.get("ReauthorizeEvery"),
                where=here,
            )
        elif "JwtConfiguration" in spec:
            jwt = spec["JwtConfiguration"] if isinstance(spec["JwtConfiguration"], dict) else {}
            audience = jwt.get("audience", jwt.get("Audience")) or []
            found[str(name)] = make_authorizer(
                str(name),
                "JWT",
                api_kind,
                issuer=jwt.get("issuer", jwt.get("Issuer")),
                audiences=audience if isinstance(audience, list) else [audience],
                identity_source=spec.get("IdentitySource", "$request.header.Authorization"),
                where=here,
            )
        elif "FunctionArn" in spec:
            payload = str(spec.get("FunctionPayloadType", "TOKEN" if api_kind == "rest" else "REQUEST")).upper()
            headers = identity.get("Headers") or ([identity["Header"]] if "Header" in identity else [])
            if api_kind == "http":
                sources = [f"$request.header.{h}" for h in headers if isinstance(h, str)]
            else:
                sources = [f"method.request.header.{h}" for h in headers if isinstance(h, str)]
            if payload == "TOKEN" and not sources:
                sources = ["method.request.header.Authorization"]
            found[str(name)] = make_authorizer(
                str(name),
                payload if api_kind == "rest" else "REQUEST",
                api_kind,
                identity_source=sources,
                validation_expression=identity.get("ValidationExpression"),
                ttl=identity.get("ReauthorizeEvery"),
                where=here,
            )
    return found


def _sam(t: _Template) -> list[Api]:
    apis: dict[str, dict[str, Any]] = {}
    for kind, type_name, implicit in (
        ("rest", "AWS::Serverless::Api", _IMPLICIT_REST),
        ("http", "AWS::Serverless::HttpApi", _IMPLICIT_HTTP),
    ):
        global_auth = t.globals.get("Api" if kind == "rest" else "HttpApi", {}).get("Auth") or {}
        declared = t.of_type(type_name)
        for name, props in declared:
            auth = props.get("Auth") if isinstance(props.get("Auth"), dict) else global_auth
            apis[name] = {"kind": kind, "auth": auth, "stage": props.get("StageName"), "routes": []}
        apis.setdefault(
            implicit,
            {
                "kind": kind,
                "auth": global_auth,
                "stage": "Prod" if kind == "rest" else None,
                "routes": [],
                "implicit": True,
            },
        )
    for fname, props in t.of_type("AWS::Serverless::Function"):
        for event_name, event in (props.get("Events") or {}).items():
            if not isinstance(event, dict) or event.get("Type") not in ("Api", "HttpApi"):
                continue
            ep = event.get("Properties") if isinstance(event.get("Properties"), dict) else {}
            kind = "rest" if event["Type"] == "Api" else "http"
            api_name = _ref(ep.get("RestApiId" if kind == "rest" else "ApiId")) or (
                _IMPLICIT_REST if kind == "rest" else _IMPLICIT_HTTP
            )
            if api_name not in apis:
                continue
            apis[api_name]["routes"].append((fname, str(event_name), ep))
    result = []
    for api_name, info in apis.items():
        if info.get("implicit") and not info["routes"]:
            continue
        kind = info["kind"]
        where = f"{t.origin}: Resources.{api_name}"
        auth = info["auth"] if isinstance(info["auth"], dict) else {}
        authorizers = _sam_authorizers(auth, kind, where)
        default = text(auth.get("DefaultAuthorizer"))
        api_key_default = auth.get("ApiKeyRequired") is True
        routes = []
        for fname, event_name, ep in info["routes"]:
            method = str(ep.get("Method", "any")).upper()
            path = str(ep.get("Path", "/"))
            if path == "$default":
                method = "ANY"
            event_auth = ep.get("Auth") if isinstance(ep.get("Auth"), dict) else {}
            chosen = text(event_auth.get("Authorizer")) or default
            route_auth: AuthKind = "none"
            authorizer = None
            if chosen == "AWS_IAM":
                route_auth = "iam"
            elif chosen and chosen != "NONE":
                authorizer = authorizers.get(chosen)
                if authorizer is None:
                    raise DefinitionError(
                        f"{t.origin}: Resources.{fname}.Events.{event_name}: authorizer {chosen!r} "
                        f"is not defined in {api_name}'s Auth.Authorizers"
                    )
                route_auth = authorizer.kind
            scopes = event_auth.get("AuthorizationScopes")
            if scopes is None and authorizer is not None:
                spec = (auth.get("Authorizers") or {}).get(chosen) or {}
                scopes = spec.get("AuthorizationScopes") if isinstance(spec, dict) else None
            key_required = event_auth.get("ApiKeyRequired")
            key = "$default" if path == "$default" else f"{method} {path}"
            routes.append(
                Route(
                    method,
                    path,
                    route_auth,
                    authorizer,
                    tuple(str(s) for s in scopes or [] if isinstance(s, str)),
                    key_required if isinstance(key_required, bool) else (api_key_default if kind == "rest" else False),
                    f"{t.origin} {key} (Resources.{fname}.Events.{event_name})",
                )
            )
        stage = text(info["stage"])
        result.append(
            Api(
                kind,
                t.origin,
                None,
                api_name,
                routes=tuple(routes),
                authorizers=tuple(authorizers.values()),
                notes=(f"stage {stage}",) if stage else (),
            )
        )
    return result


# -- plain CloudFormation / CDK ----------------------------------------------------------------------------------


def _rest(t: _Template) -> list[Api]:
    result = []
    for api_name, api_props in t.of_type("AWS::ApiGateway::RestApi"):
        authorizers = {
            name: make_authorizer(
                text(p.get("Name")) or name,
                text(p.get("Type")),
                "rest",
                provider_arns=p.get("ProviderARNs") or [],
                identity_source=p.get("IdentitySource"),
                validation_expression=p.get("IdentityValidationExpression"),
                ttl=p.get("AuthorizerResultTtlInSeconds"),
                where=f"{t.origin}: Resources.{name}",
            )
            for name, p in t.of_type("AWS::ApiGateway::Authorizer")
            if _ref(p.get("RestApiId")) == api_name
        }
        resources = {n: p for n, p in t.of_type("AWS::ApiGateway::Resource") if _ref(p.get("RestApiId")) == api_name}

        routes = []
        for name, p in t.of_type("AWS::ApiGateway::Method"):
            if _ref(p.get("RestApiId")) != api_name:
                continue
            path = _path_of(p.get("ResourceId"), api_name, resources)
            method = text(p.get("HttpMethod"))
            if path is None or method is None:
                raise DefinitionError(
                    f"{t.origin}: Resources.{name}: cannot tell the method's path or HTTP method from the template"
                )
            auth = METHOD_AUTH.get(str(p.get("AuthorizationType", "NONE")).upper(), "unknown")
            authorizer = authorizers.get(_ref(p.get("AuthorizerId")) or "")
            if auth in ("cognito", "lambda") and authorizer is None:
                auth = "unknown"
            key_required = p.get("ApiKeyRequired")
            scopes = tuple(str(s) for s in p.get("AuthorizationScopes") or [] if isinstance(s, str))
            path = path or "/"
            routes.append(
                Route(
                    method.upper(),
                    path,
                    auth,
                    authorizer,
                    scopes,
                    key_required if isinstance(key_required, bool) else False,
                    f"{t.origin} {method.upper()} {path} (Resources.{name})",
                )
            )
        stage_types = ("AWS::ApiGateway::Stage", "AWS::ApiGateway::Deployment")
        stages = [text(p.get("StageName")) for _, p in t.of_type(*stage_types) if _ref(p.get("RestApiId")) == api_name]
        names = [s for s in stages if s]
        result.append(
            Api(
                "rest",
                t.origin,
                None,
                text(api_props.get("Name")) or api_name,
                routes=tuple(routes),
                authorizers=tuple(authorizers.values()),
                api_key_source=text(api_props.get("ApiKeySourceType")),
                notes=tuple(f"stage {s}" for s in names),
            )
        )
    return result


def _path_of(resource_ref: Any, api_name: str, resources: dict[str, dict[str, Any]], depth: int = 0) -> str | None:
    """The path of an AWS::ApiGateway::Resource, walking ParentId up to the API's RootResourceId."""
    target = _ref(resource_ref)
    if isinstance(resource_ref, dict) and "Fn::GetAtt" in resource_ref and target == api_name:
        return ""  # RootResourceId
    if target not in resources or depth > 64:
        return None
    parent = _path_of(resources[target].get("ParentId"), api_name, resources, depth + 1)
    part = text(resources[target].get("PathPart"))
    return None if parent is None or part is None else f"{parent}/{part}"


def _http(t: _Template) -> list[Api]:
    result = []
    for api_name, api_props in t.of_type("AWS::ApiGatewayV2::Api"):
        protocol = str(api_props.get("ProtocolType", "HTTP")).upper()
        if protocol != "HTTP":
            continue
        authorizers = {}
        for name, p in t.of_type("AWS::ApiGatewayV2::Authorizer"):
            if _ref(p.get("ApiId")) != api_name:
                continue
            jwt = p.get("JwtConfiguration") if isinstance(p.get("JwtConfiguration"), dict) else {}
            authorizers[name] = make_authorizer(
                text(p.get("Name")) or name,
                text(p.get("AuthorizerType")),
                "http",
                issuer=jwt.get("Issuer"),
                audiences=jwt.get("Audience") or [],
                identity_source=p.get("IdentitySource"),
                ttl=p.get("AuthorizerResultTtlInSeconds"),
                where=f"{t.origin}: Resources.{name}",
            )
        routes = []
        for name, p in t.of_type("AWS::ApiGatewayV2::Route"):
            if _ref(p.get("ApiId")) != api_name:
                continue
            key = text(p.get("RouteKey"))
            if key is None:
                raise DefinitionError(
                    f"{t.origin}: Resources.{name}.RouteKey: {describe_unresolved(p.get('RouteKey'))}"
                    ", expected a literal such as 'GET /items'"
                )
            method, _, path = key.partition(" ")
            if key == "$default":
                method, path = "ANY", "$default"
            auth = METHOD_AUTH.get(str(p.get("AuthorizationType", "NONE")).upper(), "unknown")
            authorizer = authorizers.get(_ref(p.get("AuthorizerId")) or "")
            if auth in ("jwt", "lambda") and authorizer is None:
                auth = "unknown"
            scopes = tuple(str(s) for s in p.get("AuthorizationScopes") or [] if isinstance(s, str))
            routes.append(
                Route(method.upper(), path, auth, authorizer, scopes, False, f"{t.origin} {key} (Resources.{name})")
            )
        stages = [
            text(p.get("StageName"))
            for _, p in t.of_type("AWS::ApiGatewayV2::Stage")
            if _ref(p.get("ApiId")) == api_name
        ]
        result.append(
            Api(
                "http",
                t.origin,
                None,
                text(api_props.get("Name")) or api_name,
                routes=tuple(routes),
                authorizers=tuple(authorizers.values()),
                notes=tuple(f"stage {s}" for s in stages if s),
            )
        )
    return result
