"""The route matcher: stage prefix, $default, templates, {proxy+}, ANY, custom domains, and "did you mean"."""

from __future__ import annotations

from apigw_doctor.apidef import Definitions, match_route
from apigw_doctor.apidef.model import Api, Route

REST = "abc123defg.execute-api.us-east-1.amazonaws.com"
HTTP = "xyz987hgfe.execute-api.us-east-1.amazonaws.com"


def _api(kind, api_id, routes, **kw):
    return Api(kind, "file:x", api_id, routes=tuple(Route(m, p, "none") for m, p in routes), **kw)


REST_API = _api(
    "rest",
    "abc123defg",
    [("GET", "/items"), ("GET", "/items/{id}"), ("ANY", "/items/{id}"), ("GET", "/items/special"),
     ("ANY", "/{proxy+}"), ("POST", "/orders")],
    stages=("prod",),
)  # fmt: skip
HTTP_API = _api("http", "xyz987hgfe", [("GET", "/items"), ("ANY", "$default")], stages=("$default", "beta"))


def _match(method, path, host=REST, api_id="abc123defg", surface="rest", apis=(REST_API, HTTP_API)):
    return match_route(Definitions(tuple(apis)), surface, host, api_id, method, path)


def test_rest_stage_prefix_and_specificity():
    m = _match("GET", "/prod/items/special")
    assert (m.route.key, m.stage, m.path, m.bound, m.stage_known) == ("GET /items/special", "prod", "/items/special",
                                                                        True, True)  # fmt: skip
    assert _match("GET", "/prod/items/42").route.key == "GET /items/{id}"
    assert _match("DELETE", "/prod/items/42").route.key == "ANY /items/{id}"
    assert _match("PUT", "/prod/a/b/c").route.key == "ANY /{proxy+}"
    assert _match("GET", "/dev/items").stage_known is False


def test_no_route_suggests_the_closest_with_the_stage():
    apis = (_api("rest", "abc123defg", [("GET", "/items"), ("POST", "/orders")]),)
    m = _match("GET", "/prod/item", apis=apis)
    assert m.route is None and m.suggestion == "GET /prod/items"
    assert _match("GET", "/prod/zzzzzzzzzz", apis=apis).suggestion is None


def test_http_default_stage_named_stage_and_default_route():
    assert _match("GET", "/items", HTTP, "xyz987hgfe", "http").route.key == "GET /items"
    beta = _match("GET", "/beta/items", HTTP, "xyz987hgfe", "http")
    assert (beta.route.key, beta.stage) == ("GET /items", "beta")
    assert _match("PATCH", "/nothing/here", HTTP, "xyz987hgfe", "http").route.path == "$default"


def test_unbound_definition_applies_to_any_api_and_custom_domain_base_path():
    unbound = _api("rest", None, [("GET", "/items")])
    m = _match("GET", "/prod/items", apis=(unbound,))
    assert m.route is not None and m.bound is False
    domain = _api("rest", None, [("GET", "/items")], hosts=("api.example.com",), base_paths=("/v1",))
    m = _match("GET", "/v1/items", host="api.example.com", api_id=None, surface="custom", apis=(domain,))
    assert (m.route.key, m.bound) == ("GET /items", True)
    assert _match("GET", "/prod/items", api_id="other00000", apis=(REST_API,)) is None
