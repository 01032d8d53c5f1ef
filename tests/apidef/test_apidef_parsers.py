"""Each input format read into the same model: routes, authorizers, scopes, API keys, and where each came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from apigw_doctor.apidef import load_definitions

FIXTURES = Path(__file__).parent / "fixtures"
POOL_ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123"
AUTH0 = "https://dev-example.us.auth0.com/"


def _routes(definitions, kind=None):
    return {r.key: r for a in definitions.apis if kind in (None, a.kind) for r in a.routes}


def test_rest_export_cognito_scopes_api_key_lambda_and_iam():
    d = load_definitions([str(FIXTURES / "rest-orders-oas30.json")])
    (api,) = d.apis
    assert (api.kind, api.api_id, api.region, api.api_key_source) == ("rest", "abc123defg", "us-east-1", "HEADER")
    routes = _routes(d)
    assert routes["GET /items"].auth == "cognito" and routes["GET /items"].scopes == ()
    assert routes["GET /orders"].scopes == ("orders/read",)
    assert routes["POST /orders"].scopes == ("orders/write",)
    assert routes["GET /orders/{orderId}"].api_key_required is True
    assert routes["GET /orders"].api_key_required is False
    assert routes["GET /items"].authorizer.issuers == (POOL_ISSUER,)
    reports = routes["GET /reports"].authorizer
    assert (reports.kind, reports.lambda_type, reports.ttl) == ("lambda", "TOKEN", 300)
    assert reports.validation_expression == r"^Bearer [-0-9a-zA-Z\._]*$"
    assert reports.identity_header == "authorization"
    legacy = routes["GET /legacy"].authorizer
    assert legacy.identity_problem is not None and "written twice" in legacy.identity_problem.problem
    assert routes["ANY /admin/{proxy+}"].auth == "iam"
    assert routes["GET /public"].auth == "none"
    assert routes["GET /orders"].source == f"file:{FIXTURES / 'rest-orders-oas30.json'} GET /orders"
    assert d.describe() == "1 API, 8 routes, 3 authorizers"


def test_http_export_jwt_issuer_kept_exactly_with_its_trailing_slash():
    d = load_definitions([str(FIXTURES / "http-auth0-oas30.json")])
    (api,) = d.apis
    assert (api.kind, api.api_id) == ("http", "xyz987hgfe")
    routes = _routes(d)
    auth = routes["GET /orders"].authorizer
    assert (auth.kind, auth.issuers, auth.audiences) == ("jwt", (AUTH0,), ("https://api.example.com",))
    assert routes["GET /orders"].scopes == ("read:orders",)
    assert routes["DELETE /items/{id}"].scopes == ("write:items",)
    assert routes["GET /health"].auth == "none"


def test_sam_short_form_intrinsics_name_what_is_unknown_and_never_guess():
    d = load_definitions([str(FIXTURES / "sam-template.yaml")])
    rest = _routes(d, "rest")
    assert set(rest) == {"GET /items", "GET /orders", "POST /orders", "ANY /partner/{proxy+}", "GET /health"}
    cognito = rest["GET /items"].authorizer
    assert cognito.kind == "cognito" and cognito.issuers == ()
    assert cognito.unresolved == ("pool: the UserPool resource of this template (UserPool.Arn)",)
    assert rest["GET /orders"].scopes == ("orders/read",)
    assert rest["POST /orders"].api_key_required is True
    assert rest["GET /health"].auth == "none"
    partner = rest["ANY /partner/{proxy+}"].authorizer
    assert (partner.identity_header, partner.validation_expression, partner.ttl) == (
        "x-partner-token",
        "^[0-9a-f]{32}$",
        60,
    )
    http = _routes(d, "http")
    jwt = http["GET /catalog"].authorizer
    assert jwt.issuers == () and any("${UserPool}" in u and "after deployment" in u for u in jwt.unresolved)
    assert http["GET /catalog"].scopes == ("catalog/read",)
    assert "Resources.ItemsFunction.Events.ListOrders" in rest["GET /orders"].source


def test_cdk_template_literal_pool_resolved_and_join_described():
    d = load_definitions([str(FIXTURES / "cdk.out" / "OrdersStack.template.json")])
    rest = _routes(d, "rest")
    assert set(rest) == {"GET /items", "GET /items/{id}"}
    assert rest["GET /items"].authorizer.issuers == (POOL_ISSUER,)
    assert rest["GET /items/{id}"].scopes == ("items/read",) and rest["GET /items/{id}"].api_key_required
    http = _routes(d, "http")
    jwt = http["GET /catalog"].authorizer
    assert jwt.issuers == ()
    assert jwt.unresolved[0].startswith("issuer: https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool6BA7E5F2}")


def test_terraform_state_links_methods_authorizers_and_stages_by_id():
    d = load_definitions([str(FIXTURES / "terraform-show.json")])
    rest = next(a for a in d.apis if a.kind == "rest")
    http = next(a for a in d.apis if a.kind == "http")
    assert (rest.api_id, rest.stages, http.api_id, http.stages) == (
        "abc123defg",
        ("prod",),
        "xyz987hgfe",
        ("$default",),
    )
    routes = _routes(d, "rest")
    assert routes["GET /orders"].scopes == ("orders/read",) and routes["GET /orders"].api_key_required is True
    assert routes["GET /items"].authorizer.issuers == (POOL_ISSUER,)
    assert _routes(d, "http")["GET /orders"].authorizer.issuers == (AUTH0,)
    assert "(aws_api_gateway_method.orders_get)" in routes["GET /orders"].source


def test_cli_outputs_combine_across_files_and_bind_to_an_api_id():
    files = sorted(str(p) for p in (FIXTURES / "cli").glob("*.json"))
    d = load_definitions(files)
    rest = next(a for a in d.apis if a.kind == "rest")
    http = next(a for a in d.apis if a.kind == "http")
    assert rest.api_id is None and rest.stages == ("prod",) and http.stages == ("$default",)
    routes = _routes(d, "rest")
    assert routes["POST /orders"].api_key_required is True
    assert routes["GET /reports"].authorizer.validation_expression == r"^Bearer [-0-9a-zA-Z\._]*$"
    assert routes["ANY /{proxy+}"].auth == "iam"
    assert routes["GET /orders"].source.endswith("rest-get-resources.json GET /orders")
    assert _routes(d, "http")["GET /orders"].source.endswith("http-get-routes.json GET /orders")
    bound = load_definitions([f"xyz987hgfe={p}" for p in files if "/http-" in p])
    assert bound.apis[0].api_id == "xyz987hgfe"


@pytest.mark.parametrize(
    ("content", "suffix", "expected"),
    [
        ('{"openapi": "3.0.1", "paths": {', ".json", "line 1, column 32: Expecting property name"),
        ("Resources:\n  Api: [1\n  X: 2\n", ".yaml", "line 3"),
        ('{"log": {"entries": []}}', ".har", "a HAR capture, not an API definition"),
        ('{"hello": "world"}', ".json", "top level: an object with keys hello; expected an OpenAPI 3"),
        ("- just\n- a list\n", ".yaml", "top level: a list"),
        (
            '{"Resources": {"A": {"Type": "AWS::ApiGatewayV2::Authorizer", "Properties": {"ApiId": {"Ref": "H"}, '
            '"AuthorizerType": "OIDC"}}, "H": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {}}}}',
            ".json",
            "Resources.A: authorizer 'A' has type 'OIDC'",
        ),
        ("\xff\xfe", ".json", "not UTF-8"),
    ],
)
def test_bad_definitions_say_which_file_where_and_why_in_one_line(tmp_path, content, suffix, expected):
    from apigw_doctor.apidef import DefinitionError

    path = tmp_path / f"api{suffix}"
    path.write_bytes(content.encode("latin-1") if content.startswith("\xff") else content.encode())
    with pytest.raises(DefinitionError) as caught:
        load_definitions([str(path)])
    message = str(caught.value)
    assert message.startswith(str(path)) and expected in message and "\n" not in message


def test_missing_file_is_one_line(tmp_path):
    from apigw_doctor.apidef import DefinitionError

    with pytest.raises(DefinitionError, match=r"nope\.json: cannot read: No such file"):
        load_definitions([str(tmp_path / "nope.json")])
