"""Verdicts that hold on traffic the project did not shape (issue 7, sections 1-3 and 7).

Every answer is a documented wire answer (builders.py, cited there). Each item is tried as a distractor pair: the
same answer with and without options, and with and without a learned baseline.
"""

from __future__ import annotations

import base64
import json

import pytest

from apigw_doctor.engine import diagnose_flow, learn_from_flow
from apigw_doctor.keys import load_keystore
from apigw_doctor.knowledge import Knowledge, make_expectations
from apigw_doctor.render import render_text

from .builders import (
    CLIENT,
    FORBIDDEN,
    HTTP_401,
    HTTP_HOST,
    ISSUER,
    MISSING_AUTH_TOKEN,
    MISSING_EQUAL_SIGN_NEW,
    MISSING_EQUAL_SIGN_OLD,
    NOW,
    POOL,
    REQUIRES_CREDENTIAL,
    REST_401,
    REST_EXPIRED,
    flow,
    mint,
    public_jwks,
)

OTHER_POOL_ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other9999"
SIGV4 = (
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261126/us-east-1/execute-api/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
)
OK = (200, {}, b'{"items":[]}')
HTTP_403 = (403, {}, b'{"message":"Forbidden"}')  # REF 3b: HTTP APIs answer 403 Forbidden


def knowledge(**options) -> Knowledge:
    return Knowledge(make_expectations(**options))


def verdict(f, k: Knowledge | None = None, **options):
    d = diagnose_flow(f, k or knowledge(**options))
    assert d is not None, "expected a verdict"
    return d


def auth(value: str) -> dict:
    return {"Authorization": value}


def alternatives(d) -> list[str]:
    return [a["cause"] for a in d.as_metadata()["alternatives"]]


def failing(d) -> dict[str, dict]:
    return {c["id"]: c for c in d.as_metadata()["checks"] if c["result"] == "fail"}


def learned(*flows) -> Knowledge:
    k = knowledge()
    for f in flows:
        learn_from_flow(f, k)
    return k


# -- 1. confidence means something --------------------------------------------------------------------------------

SIGV4_TEXTS = [
    (MISSING_EQUAL_SIGN_NEW, "Bearer "),
    (MISSING_EQUAL_SIGN_OLD, "Bearer "),
    (REQUIRES_CREDENTIAL, ""),
]
SIGV4_IDS = ["equal-sign-new", "equal-sign-old", "requires-credential"]


@pytest.mark.parametrize("response, scheme", SIGV4_TEXTS, ids=SIGV4_IDS)
def test_sigv4_parse_text_without_options_names_both_causes_at_medium(response, scheme):
    d = verdict(flow(response, path="/prod/nope", request_headers=auth(scheme + mint())))
    assert (d.cause, d.confidence) == ("sigv4-expected", "medium")
    assert alternatives(d)[:1] == ["route-not-found"] and "stage-not-deployed" in alternatives(d)
    assert "check the URL and stage first; then whether the method's authorization type is AWS_IAM" in d.summary
    assert "route-not-found (medium)" in render_text(d)


@pytest.mark.parametrize("response, scheme", SIGV4_TEXTS, ids=SIGV4_IDS)
def test_sigv4_parse_text_on_a_cognito_method_is_an_unknown_route(response, scheme):
    d = verdict(flow(response, path="/prod/nope", request_headers=auth(scheme + mint())), authorizer="cognito")
    assert (d.cause, d.confidence) == ("route-not-found", "medium")
    assert alternatives(d)[0] == "stage-not-deployed"


@pytest.mark.parametrize("response, scheme", SIGV4_TEXTS, ids=SIGV4_IDS)
def test_sigv4_parse_text_on_an_iam_method_is_sigv4_expected_for_sure(response, scheme):
    d = verdict(flow(response, path="/prod/iam/items", request_headers=auth(scheme + mint())), authorizer="iam")
    assert (d.cause, d.confidence) == ("sigv4-expected", "high")
    assert alternatives(d) == []


def test_sigv4_parse_text_after_cognito_successes_on_the_api_is_an_unknown_route():
    k = learned(flow(OK, path="/prod/items", request_headers=auth(mint())))
    d = verdict(flow(MISSING_EQUAL_SIGN_NEW, path="/prod/itemz", request_headers=auth("Bearer " + mint())), k)
    assert (d.cause, d.confidence) == ("route-not-found", "medium")
    assert "earlier token calls to this API" in d.summary
    assert "sigv4-expected" in alternatives(d)


def test_sigv4_parse_text_on_a_route_that_worked_earlier_is_an_undeployed_stage():
    k = learned(flow(OK, path="/prod/items", request_headers=auth(mint())))
    d = verdict(flow(MISSING_EQUAL_SIGN_NEW, path="/prod/items", request_headers=auth("Bearer " + mint())), k)
    assert (d.cause, d.confidence) == ("stage-not-deployed", "medium")
    assert "aws apigateway create-deployment --rest-api-id abc123defg --stage-name prod" in " ".join(d.fix)


def test_missing_authentication_token_unsigned_is_route_not_found_with_its_alternatives():
    d = verdict(flow(MISSING_AUTH_TOKEN, path="/prod/itemz"))
    assert (d.cause, d.confidence) == ("route-not-found", "medium")
    assert alternatives(d) == ["stage-not-deployed", "missing-credential"]
    d = verdict(flow(MISSING_AUTH_TOKEN, path="/prod/iam/items"), authorizer="iam")
    assert (d.cause, d.confidence) == ("missing-credential", "medium")
    assert alternatives(d) == ["route-not-found"]


def test_missing_authentication_token_after_the_route_worked_with_a_token_is_an_undeployed_stage():
    k = learned(flow(OK, path="/prod/items", request_headers=auth(mint())))
    d = verdict(flow(MISSING_AUTH_TOKEN, path="/prod/items"), k)
    assert d.cause == "stage-not-deployed"
    k = learned(flow(OK, path="/prod/iam/items", request_headers=auth(SIGV4)))
    d = verdict(flow(MISSING_AUTH_TOKEN, path="/prod/iam/items"), k)
    assert d.cause == "missing-credential"  # the route took signed calls: an IAM method called unsigned


def test_http_api_403_with_apigw_authorizer_iam_leads_to_the_iam_causes():
    signed = flow(HTTP_403, host=HTTP_HOST, path="/items", request_headers=auth(SIGV4))
    unsigned = flow(HTTP_403, host=HTTP_HOST, path="/items")
    bearer = flow(HTTP_403, host=HTTP_HOST, path="/items", request_headers=auth("Bearer " + mint()))
    assert verdict(signed, authorizer="iam").cause == "iam-denied"
    assert (verdict(unsigned, authorizer="iam").cause, verdict(unsigned, authorizer="iam").confidence) == (
        "missing-credential",
        "high",
    )
    assert verdict(bearer, authorizer="iam").cause == "sigv4-expected"
    # distractor: without the option a Lambda authorizer's 403 stays the low-confidence reading
    d = verdict(flow(HTTP_403, host=HTTP_HOST, path="/items", request_headers=auth("opaque-value-123")))
    assert (d.cause, d.confidence) == ("authorizer-denied", "low")


def test_high_never_comes_with_alternatives():
    cases = [
        flow(MISSING_AUTH_TOKEN, path="/prod/itemz"),
        flow(MISSING_EQUAL_SIGN_NEW, path="/prod/nope", request_headers=auth("Bearer " + mint())),
        flow(FORBIDDEN, path="/prod/keyed"),
        flow(REST_EXPIRED, request_headers=auth(mint(exp=NOW - 60))),
    ]
    for f in cases:
        d = verdict(f)
        assert not (d.confidence == "high" and d.alternatives), d.cause


def test_stage_not_deployed_on_an_http_api_uses_the_v2_cli():
    from apigw_doctor.causes import CATALOGUE

    entry = CATALOGUE["stage-not-deployed"]
    assert entry.title and entry.explanation and entry.fix
    k = learned(flow(OK, host=HTTP_HOST, path="/items", request_headers=auth(mint())))
    d = verdict(flow((404, {}, b'{"message":"Not Found"}'), host=HTTP_HOST, path="/items"), k)
    assert d.cause == "stage-not-deployed"
    fix = " ".join(d.fix)
    assert "aws apigatewayv2 create-deployment --api-id xyz987hgfe" in fix and "--rest-api-id" not in fix


# -- 2. the gateway's words are evidence against a cause ----------------------------------------------------------


def test_expired_token_from_another_pool_with_a_generic_answer_leads_with_the_issuer():
    token = mint(iss=OTHER_POOL_ISSUER, exp=NOW - 600)
    d = verdict(flow(REST_401, request_headers=auth(token)), user_pools=[POOL])
    assert d.cause == "wrong-issuer"
    assert "also failing: token-expired" in d.summary
    assert {"token.iss", "token.exp"} <= set(failing(d))
    # distractor: the gateway's own expiry text decides for expiry
    d = verdict(flow(REST_EXPIRED, request_headers=auth(token)), user_pools=[POOL])
    assert (d.cause, d.confidence) == ("token-expired", "high")


@pytest.fixture
def pool_jwks(tmp_path):
    path = tmp_path / "jwks.json"
    path.write_text(public_jwks())
    return str(path)


def test_expired_token_with_an_unknown_kid_or_a_bad_signature_leads_with_the_key(pool_jwks):
    k = Knowledge(make_expectations(user_pools=[POOL]), load_keystore([pool_jwks], pools=[ISSUER]))
    unknown = mint(exp=NOW - 600, headers={"kid": "rotated-away"})
    d = verdict(flow(REST_401, request_headers=auth(unknown)), k)
    assert d.cause == "unknown-key" and "token-expired" in d.summary
    head, payload, _ = mint(exp=NOW - 600).split(".")
    forged = f"{head}.{payload}.{mint(sub='mallory').rsplit('.', 1)[1]}"
    d = verdict(flow(REST_401, request_headers=auth(forged)), k)
    assert d.cause == "bad-signature" and "token-expired" in d.summary
    # distractor: no keys given, the same expired token is judged on expiry alone
    assert verdict(flow(REST_401, request_headers=auth(unknown)), user_pools=[POOL]).cause == "token-expired"


def test_forbidden_without_an_api_key_does_not_blame_the_api_key():
    d = verdict(flow(FORBIDDEN, path="/prod/keyed"))
    assert d.cause != "api-key-rejected" and d.cause == "gateway-forbidden"
    assert alternatives(d) == ["api-key-rejected", "waf-blocked"]
    d = verdict(flow(FORBIDDEN, path="/prod/keyed", request_headers={"x-api-key": "k" * 20}))
    assert d.cause == "api-key-rejected"


@pytest.mark.parametrize(
    "claims, claim",
    [
        ({"exp": None}, "exp"),
        ({"exp": "tomorrow"}, "exp"),
        ({"exp": True}, "exp"),
    ],
    ids=["null", "text", "bool"],
)
def test_malformed_exp_is_not_a_jwt_naming_the_claim(claims, claim):
    token = mint(**claims)
    for response in (REST_401, REST_EXPIRED):
        d = verdict(flow(response, request_headers=auth(token)), user_pools=[POOL])
        if response is REST_401:
            assert d.cause == "not-a-jwt"
            assert claim in failing(d)["token.exp"]["actual"]
        assert failing(d)["token.exp"]["note"] == "the token's exp claim is missing or malformed"


def test_missing_exp_is_not_a_jwt():
    token = _resign(mint(), drop="exp")
    d = verdict(flow(REST_401, request_headers=auth(token)))
    assert d.cause == "not-a-jwt" and failing(d)["token.exp"]["actual"] == "no exp claim"


@pytest.mark.parametrize("aud", [123, {"client": CLIENT}, [CLIENT, 7], []], ids=["number", "object", "mixed", "empty"])
def test_audience_of_the_wrong_type_is_not_a_jwt(aud):
    d = verdict(flow(HTTP_401, host=HTTP_HOST, path="/items", request_headers=auth(mint(aud=aud))), audiences=[CLIENT])
    assert d.cause == "not-a-jwt" and "aud" in failing(d)["token.aud"]["expected"]


# -- 3. token checks that match the authorizer --------------------------------------------------------------------


def test_access_token_is_compared_on_client_id():
    access = mint(use="access", scope="orders/read")
    d = diagnose_flow(
        flow((200, {}, b"{}"), host=HTTP_HOST, path="/items", request_headers=auth(access)),
        knowledge(audiences=[CLIENT]),
    )
    assert d is None  # a valid access token: nothing to say
    d = verdict(flow(HTTP_401, host=HTTP_HOST, path="/items", request_headers=auth(access)), audiences=[CLIENT])
    assert d.cause != "wrong-audience"
    aud = next(c for c in d.as_metadata()["checks"] if c["id"] == "token.aud")
    assert aud["result"] == "pass" and aud["actual"] == f"client_id={CLIENT}"
    other = mint(use="access", client_id="another-client-0000000000")
    d = verdict(flow(HTTP_401, host=HTTP_HOST, path="/items", request_headers=auth(other)), audiences=[CLIENT])
    assert d.cause == "wrong-audience" and "client_id=another-client" in failing(d)["token.aud"]["actual"]


def test_rest_cognito_authorizers_do_not_check_the_audience_and_say_so():
    access = mint(use="access", client_id="another-client-0000000000")
    d = verdict(flow(REST_401, request_headers=auth(access)), audiences=[CLIENT], user_pools=[POOL])
    assert d.cause != "wrong-audience"
    aud = next(c for c in d.as_metadata()["checks"] if c["id"] == "token.aud")
    assert aud["result"] == "warn" and "does not check the audience" in aud["note"]
    assert any("does not check the audience" in line for line in d.evidence)
    # distractor: without apigw_audiences there is nothing to warn about
    d = verdict(flow(REST_401, request_headers=auth(access)), user_pools=[POOL])
    assert next(c for c in d.as_metadata()["checks"] if c["id"] == "token.aud")["result"] == "skip"


def test_one_jwks_file_and_one_pool_make_that_pools_keys(pool_jwks):
    token = mint(headers={"kid": "not-in-the-file"})
    k = Knowledge(make_expectations(user_pools=[POOL]), load_keystore([pool_jwks], pools=[ISSUER]))
    d = verdict(flow(REST_401, request_headers=auth(token)), k)
    assert (d.cause, d.confidence) == ("unknown-key", "high")
    # distractor: the same file with two pools belongs to neither, so the kid cannot be judged
    two = (ISSUER, OTHER_POOL_ISSUER)
    k = Knowledge(make_expectations(user_pools=[POOL, "us-east-1_Other9999"]), load_keystore([pool_jwks], pools=two))
    assert verdict(flow(REST_401, request_headers=auth(token)), k).cause != "unknown-key"


def test_unknown_key_is_listed_in_a_combined_failure(pool_jwks):
    token = mint(iss=OTHER_POOL_ISSUER, exp=NOW - 60, headers={"kid": "other-pool-kid"})
    k = Knowledge(make_expectations(user_pools=[POOL]), load_keystore([pool_jwks], pools=[ISSUER]))
    d = verdict(flow(REST_401, request_headers=auth(token)), k)
    assert d.cause == "wrong-issuer"  # another pool is refused before its kid is looked up (aws-jwt-verify's order)
    assert {"token.signature", "token.iss", "token.exp"} <= set(failing(d))
    assert "also failing: unknown-key, token-expired" in d.summary


def _jwe(header: dict) -> str:
    head = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    return f"{head}.{'a' * 342}.{'b' * 16}.{'c' * 120}.{'d' * 22}"


def test_only_a_cognito_shaped_jwe_is_a_refresh_token():
    cognito = _jwe({"cty": "JWT", "enc": "A256GCM", "alg": "RSA-OAEP"})
    assert verdict(flow(REST_401, request_headers=auth(cognito))).cause == "refresh-token-sent"
    oidc = _jwe({"alg": "dir", "enc": "A256GCM", "iss": "https://login.example.com/"})
    d = verdict(flow(HTTP_401, host=HTTP_HOST, path="/items", request_headers=auth("Bearer " + oidc)))
    assert d.cause == "not-a-jwt"
    assert "encrypted access token" in failing(d)["credential.jwt"]["note"]
    assert "credential.not-refresh" not in failing(d)


def test_sigv4_to_a_token_method_is_the_wrong_kind_of_credential():
    for options in ({"authorizer": "cognito"}, {"user_pools": [POOL]}):
        d = verdict(flow(REST_401, request_headers=auth(SIGV4)), **options)
        assert d.cause == "not-a-jwt" and d.cause != "authorizer-rejected"
        assert "SigV4" in failing(d)["credential.jwt"]["actual"]
    # distractor: the same credential answered by IAM's own text is an IAM verdict
    signed = flow(
        (403, {"x-amzn-ErrorType": "InvalidSignatureException"}, b'{"message":"Signature expired: 20180816T032046Z '
         b'is now earlier than 20180816T040329Z (20180816T040829Z - 5 min.)"}'),
        path="/prod/iam/items", request_headers=auth(SIGV4),
    )  # fmt: skip
    assert verdict(signed).cause == "sigv4-clock-skew"


# -- 7. as a new user would try it --------------------------------------------------------------------------------


def test_garbage_token_is_not_a_jwt_when_pools_are_given_or_jwts_worked_before():
    garbage = flow(REST_401, request_headers=auth("garbage123"))
    assert verdict(garbage).cause == "authorizer-rejected"  # nothing says the method reads JWTs
    assert verdict(garbage, user_pools=[POOL]).cause == "not-a-jwt"
    assert verdict(garbage, authorizer="cognito").cause == "not-a-jwt"
    k = learned(flow(OK, request_headers=auth(mint())), flow(OK, request_headers=auth(mint())))
    assert verdict(flow(REST_401, request_headers=auth("garbage123")), k).cause == "not-a-jwt"


def test_http_api_fix_commands_use_the_v2_cli():
    d = verdict(flow(HTTP_401, host=HTTP_HOST, path="/items", request_headers={"X-Id-Token": mint()}))
    assert d.cause == "wrong-header"
    fix = " ".join(d.fix)
    assert "aws apigatewayv2 get-authorizers --api-id xyz987hgfe" in fix and "--rest-api-id" not in fix
    d = verdict(flow(REST_401, request_headers={"X-Id-Token": mint()}))
    assert "aws apigateway get-authorizers --rest-api-id abc123defg" in " ".join(d.fix)


def test_an_api_key_is_not_a_misplaced_token():
    d = verdict(flow(FORBIDDEN, path="/prod/keyed", request_headers={"x-api-key": "k" * 20}))
    assert "credential.location" not in failing(d)
    d = verdict(flow(REST_401, request_headers={"x-api-key": "k" * 20}))
    assert d.cause == "missing-credential" and "credential.location" not in failing(d)


def test_cognito_unexplained_names_cognito_and_quotes_it():
    from .test_cognito_causes import idp

    d = verdict(idp("ResourceNotFoundException", "User pool client 1example does not exist."))
    assert d.cause == "unexplained" and d.title.startswith("Amazon Cognito refused")
    assert "API Gateway" not in d.title
    assert 'ResourceNotFoundException: "User pool client 1example does not exist."' in d.summary
    assert "cognito-idp.us-east-1.amazonaws.com" in d.summary
    # distractor: an API Gateway answer that is not recognised keeps API Gateway's title
    d = verdict(
        flow((403, {"x-amzn-ErrorType": "SomethingException"}, b'{"message":"Nope"}'), request_headers=auth("tok"))
    )
    assert d.cause == "unexplained" and d.title.startswith("API Gateway refused")


def _resign(token: str, *, drop: str) -> str:
    import jwt as pyjwt

    from .builders import _KEY

    header = pyjwt.get_unverified_header(token)
    claims = pyjwt.decode(token, options={"verify_signature": False})
    claims.pop(drop)
    return pyjwt.encode(claims, _KEY, algorithm="RS256", headers={"kid": header["kid"]})
