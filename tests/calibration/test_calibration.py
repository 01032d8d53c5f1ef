"""Calibration: over every labelled case, `high` must be right in >= 98 % of verdicts and `medium` in >= 80 %.

The labelled cases are the project's own, each with a known true cause:
- every sandbox scenario (`sandbox/scenarios.py`), sent over loopback HTTPS to the running sandbox, which records
  what it refused and why (its cause, and the causes that hold as well); successes first, as in real use;
- the unit tests' wire-accurate cases (`tests/unit/builders.py` answers), with their distractor variants: the
  same answer with lower-case HTTP/2 headers and CloudFront headers, with and without options and a baseline.

A verdict is right when its primary cause is the true cause, or one the sandbox says holds as well. The table is
printed whatever pytest's capture setting (`capsys.disabled()`).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from mitmproxy import http
from mitmproxy.test import tflow, tutils

from apigw_doctor.engine import learn_from_flow, observe_flow
from apigw_doctor.keys import load_keystore
from apigw_doctor.knowledge import Knowledge, make_expectations
from apigw_doctor.sandbox.app import Sandbox
from apigw_doctor.sandbox.config import CUSTOM_DOMAIN
from apigw_doctor.sandbox.scenarios import RECIPES, SCENARIOS, Scenario, request_id_of
from tests.unit import test_distractors as distractors
from tests.unit import test_real_world_causes as real_world
from tests.unit.builders import (
    AUTHORIZER_CONFIG_ERROR,
    CLIENT,
    CLOUDFRONT,
    FORBIDDEN,
    HTTP_401,
    HTTP_401_AUDIENCE,
    HTTP_404,
    HTTP_HOST,
    IAM_DENIED_NEW,
    IAM_DENIED_OLD,
    ISSUER,
    LAMBDA_DENY_NEW,
    LAMBDA_DENY_OLD,
    LAMBDA_IMPLICIT_DENY,
    MISSING_AUTH_TOKEN,
    MISSING_EQUAL_SIGN_NEW,
    MISSING_EQUAL_SIGN_OLD,
    NOW,
    POOL,
    REQUIRES_CREDENTIAL,
    RESOURCE_POLICY_ANON,
    REST_401,
    REST_EXPIRED,
    SECURITY_TOKEN_INVALID,
    SIGNATURE_EXPIRED,
    SIGNATURE_MISMATCH,
    flow,
    mint,
    public_jwks,
)
from tests.unit.test_cognito_causes import idp

HIGH_TARGET, MEDIUM_TARGET = 0.98, 0.80
OTHER_ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other9999"
SIGV4 = (
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261126/us-east-1/execute-api/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
)
OK = (200, {}, b'{"items":[]}')


@dataclass
class Case:
    name: str
    truth: tuple[str, ...]  # the true cause first, then causes that hold as well
    make: Callable[[], http.HTTPFlow]
    options: dict = field(default_factory=dict)
    before: tuple[Callable[[], http.HTTPFlow], ...] = ()  # successful calls the engine sees first
    keys: bool = False  # the pool's JWKS file is given (apigw_jwks), as a plain PATH


@dataclass
class Outcome:
    source: str
    name: str
    truth: tuple[str, ...]
    cause: str | None
    confidence: str | None

    @property
    def right(self) -> bool:
        return self.cause in self.truth


def _auth(value: str) -> dict:
    return {"Authorization": value}


def _unit_cases() -> list[Case]:
    """The unit tests' labelled cases (test_causes, test_distractors, test_verdicts_hold), built the same way."""
    C = Case
    ok_token = lambda: flow(OK, path="/prod/items", request_headers=_auth(mint()))  # noqa: E731
    ok_signed = lambda: flow(OK, path="/prod/iam/items", request_headers=_auth(SIGV4))  # noqa: E731
    cases = [
        C("missing-credential", ("missing-credential",), lambda: flow(REST_401)),
        C("wrong-header", ("wrong-header",), lambda: flow(REST_401, request_headers={"X-Id-Token": mint()})),
        C("wrong-header-query", ("wrong-header",), lambda: flow(REST_401, path="/prod/items?access_token=" + mint())),
        C(
            "malformed-double",
            ("malformed-header",),
            lambda: flow(REST_401, request_headers=_auth("Bearer Bearer " + mint())),
        ),
        C("malformed-quoted", ("malformed-header",), lambda: flow(REST_401, request_headers=_auth(f'"{mint()}"'))),
        C("placeholder", ("placeholder-token",), lambda: flow(REST_401, request_headers=_auth("Bearer undefined"))),
        C("truncated", ("not-a-jwt",), lambda: flow(REST_401, request_headers=_auth(mint().rsplit(".", 1)[0]))),
        C(
            "refresh",
            ("refresh-token-sent",),
            lambda: flow(
                REST_401,
                request_headers=_auth(
                    "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.aaaa.bbbb.cccc.dddd"
                ),
            ),
        ),
        C("expired-text", ("token-expired",), lambda: flow(REST_EXPIRED, request_headers=_auth(mint(exp=NOW - 60)))),
        C("expired-generic", ("token-expired",), lambda: flow(REST_401, request_headers=_auth(mint(exp=NOW - 60)))),
        C(
            "expired-no-date",
            ("token-expired",),
            lambda: flow(REST_401, request_headers=_auth(mint(exp=NOW - 60)), date=None),
        ),
        C("nbf", ("token-not-yet-valid",), lambda: flow(REST_401, request_headers=_auth(mint(nbf=NOW + 600)))),
        C(
            "iat-http",
            ("token-not-yet-valid",),
            lambda: flow(HTTP_401, host=HTTP_HOST, path="/items", request_headers=_auth(mint(iat=NOW + 600))),
        ),
        C(
            "issuer-pool",
            ("wrong-issuer",),
            lambda: flow(REST_401, request_headers=_auth(mint(iss=OTHER_ISSUER))),
            {"user_pools": [POOL]},
        ),
        C(
            "issuer-not-cognito",
            ("wrong-issuer",),
            lambda: flow(REST_401, request_headers=_auth(mint(iss="https://login.example.com/"))),
        ),
        C(
            "issuer-expired-generic",
            ("wrong-issuer",),
            lambda: flow(REST_401, request_headers=_auth(mint(iss=OTHER_ISSUER, exp=NOW - 600))),
            {"user_pools": [POOL]},
        ),
        C(
            "issuer-expired-text",
            ("token-expired",),
            lambda: flow(REST_EXPIRED, request_headers=_auth(mint(iss=OTHER_ISSUER, exp=NOW - 600))),
            {"user_pools": [POOL]},
        ),
        C(
            "access-on-id-method",
            ("wrong-token-type",),
            lambda: flow(REST_401, request_headers=_auth(mint(use="access"))),
            {"user_pools": [POOL]},
        ),
        C(
            "id-on-scoped-method",
            ("wrong-token-type",),
            lambda: flow(REST_401, path="/prod/orders", request_headers=_auth(mint())),
            {"scopes": ["orders/read"]},
        ),
        C(
            "missing-scope",
            ("missing-scope",),
            lambda: flow(REST_401, path="/prod/orders", request_headers=_auth(mint(use="access"))),
            {"scopes": ["orders/read"]},
        ),
        C(
            "audience-text",
            ("wrong-audience",),
            lambda: flow(
                HTTP_401_AUDIENCE, host=HTTP_HOST, path="/items", request_headers=_auth(mint(aud="other-client"))
            ),
        ),
        C(
            "audience-access",
            ("wrong-audience",),
            lambda: flow(
                HTTP_401, host=HTTP_HOST, path="/items", request_headers=_auth(mint(use="access", client_id="other"))
            ),
            {"audiences": [CLIENT]},
        ),
        C(
            "access-right-client",
            ("authorizer-rejected", "missing-scope"),
            lambda: flow(HTTP_401, host=HTTP_HOST, path="/items", request_headers=_auth(mint(use="access"))),
            {"audiences": [CLIENT]},
        ),
        C(
            "hs256",
            ("unsupported-algorithm",),
            lambda: flow(HTTP_401, host=HTTP_HOST, path="/items", request_headers=_auth(mint(alg="HS256"))),
        ),
        C(
            "no-kid",
            ("unknown-key",),
            lambda: flow(
                REST_401, request_headers=_auth("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + mint().split(".", 1)[1])
            ),
        ),
        C(
            "unknown-kid-keys",
            ("unknown-key",),
            lambda: flow(REST_401, request_headers=_auth(mint(headers={"kid": "rotated"}))),
            {"user_pools": [POOL]},
            keys=True,
        ),
        C(
            "unknown-kid-expired",
            ("unknown-key",),
            lambda: flow(REST_401, request_headers=_auth(mint(headers={"kid": "rotated"}, exp=NOW - 60))),
            {"user_pools": [POOL]},
            keys=True,
        ),
        C(
            "bad-signature",
            ("bad-signature",),
            lambda: flow(
                REST_401, request_headers=_auth(mint().rsplit(".", 1)[0] + "." + mint(sub="mallory").rsplit(".", 1)[1])
            ),
            {"user_pools": [POOL]},
            keys=True,
        ),
        C("exp-text", ("not-a-jwt",), lambda: flow(REST_401, request_headers=_auth(mint(exp="tomorrow")))),
        C(
            "aud-number",
            ("not-a-jwt",),
            lambda: flow(HTTP_401, host=HTTP_HOST, path="/items", request_headers=_auth(mint(aud=123))),
            {"audiences": [CLIENT]},
        ),
        C(
            "garbage-pools",
            ("not-a-jwt",),
            lambda: flow(REST_401, request_headers=_auth("garbage123")),
            {"user_pools": [POOL]},
        ),
        C(
            "garbage-baseline",
            ("not-a-jwt",),
            lambda: flow(REST_401, request_headers=_auth("garbage123")),
            before=(ok_token,),
        ),
        C("garbage-lambda", ("authorizer-rejected",), lambda: flow(REST_401, request_headers=_auth("garbage123"))),
        C(
            "sigv4-to-cognito",
            ("not-a-jwt",),
            lambda: flow(REST_401, request_headers=_auth(SIGV4)),
            {"authorizer": "cognito"},
        ),
        # not the token
        C("mat-unknown", ("route-not-found",), lambda: flow(MISSING_AUTH_TOKEN, path="/prod/itemz")),
        C(
            "mat-iam",
            ("missing-credential",),
            lambda: flow(MISSING_AUTH_TOKEN, path="/prod/iam/items"),
            {"authorizer": "iam"},
        ),
        C(
            "mat-iam-learned",
            ("missing-credential",),
            lambda: flow(MISSING_AUTH_TOKEN, path="/prod/iam/items"),
            before=(ok_signed,),
        ),
        C(
            "mat-undeployed",
            ("stage-not-deployed",),
            lambda: flow(MISSING_AUTH_TOKEN, path="/prod/items"),
            before=(ok_token,),
        ),
        C("http-404", ("route-not-found",), lambda: flow(HTTP_404, host=HTTP_HOST, path="/nope")),
        C(
            "sigv4-text-unknown",
            ("sigv4-expected", "route-not-found"),
            lambda: flow(MISSING_EQUAL_SIGN_NEW, path="/prod/nope", request_headers=_auth("Bearer " + mint())),
        ),
        C(
            "sigv4-text-old",
            ("sigv4-expected", "route-not-found"),
            lambda: flow(MISSING_EQUAL_SIGN_OLD, path="/prod/nope", request_headers=_auth("Bearer " + mint())),
        ),
        C(
            "sigv4-requires",
            ("sigv4-expected", "route-not-found"),
            lambda: flow(REQUIRES_CREDENTIAL, path="/prod/nope", request_headers=_auth("allow")),
        ),
        C(
            "sigv4-text-cognito",
            ("route-not-found",),
            lambda: flow(MISSING_EQUAL_SIGN_NEW, path="/prod/nope", request_headers=_auth("Bearer " + mint())),
            {"authorizer": "cognito"},
        ),
        C(
            "sigv4-text-iam",
            ("sigv4-expected",),
            lambda: flow(MISSING_EQUAL_SIGN_NEW, path="/prod/iam/items", request_headers=_auth("Bearer " + mint())),
            {"authorizer": "iam"},
        ),
        C(
            "sigv4-text-learned-iam",
            ("sigv4-expected",),
            lambda: flow(MISSING_EQUAL_SIGN_NEW, path="/prod/iam/items", request_headers=_auth("Bearer " + mint())),
            before=(ok_signed,),
        ),
        C(
            "sigv4-text-learned-jwt",
            ("route-not-found",),
            lambda: flow(MISSING_EQUAL_SIGN_NEW, path="/prod/itemz", request_headers=_auth("Bearer " + mint())),
            before=(ok_token,),
        ),
        C(
            "clock-skew",
            ("sigv4-clock-skew",),
            lambda: flow(SIGNATURE_EXPIRED, path="/prod/iam/items", request_headers=_auth(SIGV4)),
        ),
        C(
            "signature-mismatch",
            ("sigv4-signature-mismatch",),
            lambda: flow(SIGNATURE_MISMATCH, path="/prod/iam/items", request_headers=_auth(SIGV4)),
        ),
        C(
            "bad-credentials",
            ("sigv4-bad-credentials",),
            lambda: flow(SECURITY_TOKEN_INVALID, path="/prod/iam/items", request_headers=_auth(SIGV4)),
        ),
        C("iam-denied-new", ("iam-denied",), lambda: flow(IAM_DENIED_NEW, request_headers=_auth(SIGV4))),
        C("iam-denied-old", ("iam-denied",), lambda: flow(IAM_DENIED_OLD, request_headers=_auth(SIGV4))),
        C("resource-policy", ("resource-policy-denied",), lambda: flow(RESOURCE_POLICY_ANON)),
        C("deny-old", ("authorizer-denied",), lambda: flow(LAMBDA_DENY_OLD, request_headers=_auth("deny"))),
        C("deny-new", ("authorizer-denied",), lambda: flow(LAMBDA_DENY_NEW, request_headers=_auth("deny"))),
        C("deny-implicit", ("authorizer-denied",), lambda: flow(LAMBDA_IMPLICIT_DENY, request_headers=_auth("tok"))),
        C("authorizer-null", ("authorizer-error",), lambda: flow(AUTHORIZER_CONFIG_ERROR, request_headers=_auth("x"))),
        C(
            "api-key-wrong",
            ("api-key-rejected",),
            lambda: flow(FORBIDDEN, path="/prod/keyed", request_headers={"x-api-key": "k" * 20}),
        ),
        C(
            "http-403-iam",
            ("iam-denied",),
            lambda: flow(
                (403, {}, b'{"message":"Forbidden"}'), host=HTTP_HOST, path="/items", request_headers=_auth(SIGV4)
            ),
            {"authorizer": "iam"},
        ),
        C("preflight", ("cors-preflight-blocked",), lambda: flow(REST_401, method="OPTIONS")),
    ]
    # the real-world causes (test_real_world_causes), each from its public report
    bearer, cf = real_world.bearer, real_world.cf_flow
    cases += [
        C("backend-bare-bearer", ("backend-rejected",),
          lambda: flow(real_world.QUARKUS_401, host=HTTP_HOST, path="/items", request_headers=bearer())),
        C("backend-bare-bearer-jwt", ("backend-rejected",),
          lambda: flow(real_world.QUARKUS_401, host=HTTP_HOST, path="/items", request_headers=bearer()),
          {"authorizer": "jwt"}),
        C("backend-body", ("backend-rejected",),
          lambda: flow((403, {}, b'{"detail":"Not authenticated"}'), host=HTTP_HOST, path="/items",
                       request_headers=bearer())),
        C("cloudfront-waf", ("waf-blocked",), lambda: cf("Request blocked."), {"hosts": ["api.example.com"]}),
        C("cloudfront-host", ("cloudfront-refused",), lambda: cf("Bad request."), {"hosts": ["api.example.com"]}),
        C("cloudfront-geo", ("cloudfront-refused",), lambda: cf(
            "The Amazon CloudFront distribution is configured to block access from your country."),
          {"hosts": ["api.example.com"]}),
        C("waf-large-body", ("waf-blocked",), lambda: flow(
            FORBIDDEN, method="POST", request_headers={**bearer(), "Content-Length": "9000"})),
        C("custom-domain-unmapped", ("custom-domain-unmapped",), lambda: flow(
            FORBIDDEN, host="api.example.com", path="/v2/items", request_headers=bearer()),
          {"hosts": ["api.example.com"]}),
        C("auth-flow", ("cognito-auth-flow-not-enabled",), lambda: idp(
            "InvalidParameterException", "USER_PASSWORD_AUTH flow not enabled for this client")),
        C("secret-hash-wording", ("cognito-secret-hash",), lambda: idp(
            "NotAuthorizedException", "SecretHash does not match for the client: 1example23456789abcdefghij")),
        C("get-user-id-token", ("wrong-token-type",), lambda: idp(
            "NotAuthorizedException", "Invalid token", "GetUser", {"AccessToken": mint(use="id")})),
        C("get-user-expired", ("cognito-token-expired",), lambda: idp(
            "NotAuthorizedException", "Access Token has expired", "GetUser", {"AccessToken": mint(use="access")})),
    ]  # fmt: skip
    for name, response, headers, cause in distractors.CASES:  # the distractor variants of test_distractors
        truth = (cause, "route-not-found") if cause == "sigv4-expected" else (cause,)
        for variant, shaped in (
            ("http2", lambda r=response: distractors.lower_case(r)),
            ("cloudfront", lambda r=response: (r[0], {**r[1], **CLOUDFRONT}, r[2])),
        ):
            cases.append(C(f"{name}-{variant}", truth, lambda s=shaped, h=headers: flow(s(), request_headers=h)))
    return cases


def _judge_unit(case: Case, jwks: Path) -> Outcome:
    keys = load_keystore([str(jwks)], pools=[ISSUER]) if case.keys else None
    k = Knowledge(make_expectations(**case.options), keys)
    for make in case.before:
        learn_from_flow(make(), k)
    d = observe_flow(case.make(), k)
    return Outcome("unit", case.name, case.truth, d.cause if d else None, d.confidence if d else None)


# --- the sandbox scenarios --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sb = Sandbox.start(tmp_path_factory.mktemp("calibration-sandbox"))
    yield sb
    sb.stop()


def _as_flow(resp: httpx.Response, sent_at: float) -> http.HTTPFlow:
    req = resp.request
    url = req.url
    request = tutils.treq(
        host=url.host, port=url.port or 443, scheme=url.scheme.encode(), method=req.method.encode(),
        path=url.raw_path, headers=http.Headers(list(req.headers.raw)), content=req.content,
    )  # fmt: skip
    request.timestamp_start = sent_at
    headers = [(k, v) for k, v in resp.headers.raw if k.lower() != b"content-encoding"]
    response = tutils.tresp(status_code=resp.status_code, headers=http.Headers(headers), content=resp.content)
    return tflow.tflow(req=request, resp=response)


def _sandbox_outcomes(sb: Sandbox, workdir: Path) -> list[Outcome]:
    specs = []
    for pool in sb.issuer.pools.values():
        path = workdir / f"jwks-{pool.pool_id}.json"
        path.write_text(json.dumps(pool.jwks()))
        specs.append(f"{pool.issuer}={path}")
    # The sandbox's custom domain is watched only when named, as a user names theirs (apigw_hosts).
    k = Knowledge(make_expectations(hosts=[CUSTOM_DOMAIN]), load_keystore(specs))
    ordered: list[Scenario] = [s for s in SCENARIOS if s.cause is None] + [s for s in SCENARIOS if s.cause]
    outcomes = []
    with sb.client() as client:
        for scenario in ordered:
            prepared = RECIPES[scenario.recipe](sb, scenario)
            sent_at = time.time()
            resp = client.request(
                scenario.method, f"https://{scenario.host}{scenario.path}", headers=prepared.headers,
                content=prepared.content, follow_redirects=False,
            )  # fmt: skip
            d = observe_flow(_as_flow(resp, sent_at), k)
            if scenario.cause is None:
                continue
            rid = request_id_of(resp.headers)
            record = sb.reason_for(rid) if rid else None
            assert record is not None and record.cause == scenario.cause, (scenario.name, record)
            truth = (record.cause, *record.also)
            outcomes.append(
                Outcome("sandbox", scenario.name, truth, d.cause if d else None, d.confidence if d else None)
            )
    return outcomes


# --- the table -------------------------------------------------------------------------------------------------


def _table(outcomes: list[Outcome]) -> str:
    n, right = Counter(), Counter()
    for o in outcomes:
        n[o.confidence] += 1
        right[o.confidence] += o.right
    lines = ["", "calibration over labelled cases (right = primary cause is the true cause)", ""]
    lines.append(f"  {'confidence':<10} {'cases':>6} {'right':>6} {'rate':>7}  target")
    for level, target in (("high", HIGH_TARGET), ("medium", MEDIUM_TARGET), ("low", None), (None, None)):
        if n[level]:
            rate = right[level] / n[level]
            goal = f">= {target:.0%}" if target else "-"
            lines.append(f"  {level or 'no verdict'!s:<10} {n[level]:>6} {right[level]:>6} {rate:>7.1%}  {goal}")
    lines.append(f"  {'all':<10} {sum(n.values()):>6} {sum(right.values()):>6}")
    wrong = [o for o in outcomes if not o.right]
    if wrong:
        lines += ["", "  not right:"]
        lines += [f"    {o.source}:{o.name}: said {o.cause} ({o.confidence}), truth {o.truth[0]}" for o in wrong]
    return "\n".join(lines)


def test_confidence_is_calibrated(sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jwks = tmp_path / "pool-jwks.json"
    jwks.write_text(public_jwks())
    outcomes = [_judge_unit(case, jwks) for case in _unit_cases()]
    outcomes += _sandbox_outcomes(sandbox, tmp_path)
    table = _table(outcomes)
    with capsys.disabled():
        print(table)
    by_level = {level: [o for o in outcomes if o.confidence == level] for level in ("high", "medium")}
    assert len(outcomes) >= 100 and len(by_level["high"]) >= 40 and len(by_level["medium"]) >= 10, table
    assert all(o.cause is not None for o in outcomes), table  # every labelled failure gets a verdict
    high_rate = sum(o.right for o in by_level["high"]) / len(by_level["high"])
    medium_rate = sum(o.right for o in by_level["medium"]) / len(by_level["medium"])
    assert high_rate >= HIGH_TARGET, table
    assert medium_rate >= MEDIUM_TARGET, table
