"""aws-jwt-verify (AWS's own JWT verifier for Cognito, npm) as an oracle for the token checks.

A matrix of Cognito-shaped tokens, minted with the sandbox issuer's real RSA keys, single and combined failures, is
given to aws-jwt-verify (`CognitoJwtVerifier` with `cacheJwks`, so it never fetches) and to apigw-doctor, under the
two authorizers that validate Cognito tokens:
- REST Cognito authorizer (method without scopes: ID tokens; the app client is not checked): aws-jwt-verify with
  tokenUse "id";
- HTTP API JWT authorizer (audience = the web client): aws-jwt-verify with clientId set.
The gateway's answer for each token comes from the sandbox's own authorizer code (`sandbox/verify.py`).

Asserted: apigw-doctor's primary cause is aws-jwt-verify's first error wherever the gateway's answer does not decide
otherwise (it let the token through, or a REST gateway's generic Unauthorized says expiry is not what it rejected),
and every failing check aws-jwt-verify reports is a failing check in the verdict.

aws-jwt-verify is installed with npm into a scratch directory once per session; without node/npm or network the
test is skipped with the reason.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest
from mitmproxy import http
from mitmproxy.test import tflow, tutils

from apigw_doctor.engine import diagnose_flow
from apigw_doctor.keys import load_keystore
from apigw_doctor.knowledge import Knowledge, make_expectations
from apigw_doctor.sandbox.issuer import SERVER_CLIENT_ID, WEB_CLIENT_ID, Issuer
from apigw_doctor.sandbox.verify import KeyRing, Refusal, cognito_rest, jwt_http

AWS_JWT_VERIFY = "aws-jwt-verify@5"
REST_HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"
HTTP_HOST = "xyz987hgfe.execute-api.us-east-1.amazonaws.com"

# aws-jwt-verify's error classes (its src/error.ts) and the catalogue cause each one means.
CAUSE_OF_ERROR = {
    "KidNotFoundInJwksError": "unknown-key",
    "JwtWithoutValidKidError": "unknown-key",
    "JwtInvalidSignatureAlgorithmError": "unsupported-algorithm",
    "JwtInvalidSignatureError": "bad-signature",
    "JwtExpiredError": "token-expired",
    "JwtNotBeforeError": "token-not-yet-valid",
    "JwtInvalidIssuerError": "wrong-issuer",
    "IssuerNotConfigured": "wrong-issuer",
    "CognitoJwtInvalidTokenUseError": "wrong-token-type",
    "CognitoJwtInvalidClientIdError": "wrong-audience",
    "JwtParseError": "not-a-jwt",
}
# The apigw-doctor checks that judge what each cause is about.
CHECKS_OF_CAUSE = {
    "unknown-key": {"token.kid", "token.signature"},
    "unsupported-algorithm": {"token.alg", "token.signature"},
    "bad-signature": {"token.signature"},
    "token-expired": {"token.exp"},
    "token-not-yet-valid": {"token.nbf"},
    "wrong-issuer": {"token.iss"},
    "wrong-token-type": {"token.use"},
    "wrong-audience": {"token.aud"},
    "not-a-jwt": {"credential.jwt", "token.exp", "token.aud"},
}

# Our script (not aws-jwt-verify's code): the first error of a full verification, then each claim check on its
# own, so that combined failures report every claim aws-jwt-verify would reject.
ORACLE_JS = r"""
const { CognitoJwtVerifier } = require("aws-jwt-verify");
const { decomposeUnverifiedJwt, validateJwtFields } = require("aws-jwt-verify/jwt");
const { validateCognitoJwtFields } = require("aws-jwt-verify/cognito-verifier");
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const verifier = CognitoJwtVerifier.create({ userPoolId: input.userPoolId, tokenUse: null, clientId: null });
verifier.cacheJwks(input.jwks);
// A token of an unconfigured issuer is refused before its kid is looked up, as a ParameterValidationError.
const kind = (e) => {
  const name = e && e.constructor ? e.constructor.name : String(e);
  return name === "ParameterValidationError" && /^issuer not configured/.test(e.message) ? "IssuerNotConfigured" : name;
};
const attempt = (fn) => { try { fn(); return null; } catch (e) { return kind(e); } };
const results = input.cases.map((c) => {
  const props = { tokenUse: c.tokenUse, clientId: c.clientId };
  const first = attempt(() => verifier.verifySync(c.token, props));
  const claims = [];
  let payload = null;
  try { payload = decomposeUnverifiedJwt(c.token).payload; } catch (e) { claims.push(kind(e)); }
  if (payload) {
    const noExp = Object.assign({}, payload, { exp: undefined });
    for (const fn of [
      () => validateJwtFields(payload, { issuer: null, audience: null }),
      () => validateJwtFields(noExp, { issuer: null, audience: null }),
      () => validateJwtFields(payload, { issuer: input.issuer, audience: null, graceSeconds: 1e12 }),
      () => validateCognitoJwtFields(payload, { tokenUse: c.tokenUse, clientId: null }),
      () => validateCognitoJwtFields(payload, { tokenUse: null, clientId: c.clientId }),
    ]) {
      const err = attempt(fn);
      if (err && !claims.includes(err)) claims.push(err);
    }
  }
  return { first, claims };
});
process.stdout.write(JSON.stringify(results));
"""


@pytest.fixture(scope="session")
def aws_jwt_verify(tmp_path_factory: pytest.TempPathFactory) -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("aws-jwt-verify oracle: node and npm are needed (not found on PATH)")
    workdir = tmp_path_factory.mktemp("aws-jwt-verify")
    (workdir / "package.json").write_text('{"name": "apigw-doctor-oracle", "private": true}')
    try:
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--silent", AWS_JWT_VERIFY],
            cwd=workdir, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.skip("aws-jwt-verify oracle: npm install timed out (no network?)")
    if done.returncode != 0 or not (workdir / "node_modules" / "aws-jwt-verify").is_dir():
        pytest.skip(f"aws-jwt-verify oracle: npm install failed (no network?): {done.stderr.strip()[-300:]}")
    (workdir / "oracle.js").write_text(ORACLE_JS)
    return workdir


@dataclass
class Token:
    name: str
    value: str


def _matrix(issuer: Issuer, now: int) -> list[Token]:
    pool, other, far = issuer.pool, issuer.other_pool, issuer.other_region_pool
    past = now - 4200  # issued 70 min ago: a 1-hour token expired 10 min ago
    id_claims, access_claims = pool.id_claims, pool.access_claims

    def forged(token: str, donor: str) -> str:
        return token.rsplit(".", 1)[0] + "." + donor.rsplit(".", 1)[1]

    def sign(claims: dict[str, Any], **kw: Any) -> str:
        return pool.sign(claims, **kw)

    hs_key = b"not-a-real-secret-but-long-enough-for-hs256"
    rows: list[tuple[str, Callable[[], str]]] = [
        ("valid-id", pool.mint_id_token),
        ("valid-access", pool.mint_access_token),
        ("expired-id", lambda: sign(id_claims(iat=past))),
        ("expired-access", lambda: pool.sign(access_claims(iat=past), use="access")),
        ("other-pool", other.mint_id_token),
        ("other-region-pool", far.mint_id_token),
        ("other-iss-our-key", lambda: sign(id_claims(extra={"iss": other.issuer}))),
        ("other-client-id", lambda: pool.mint_id_token(client_id=SERVER_CLIENT_ID)),
        ("other-client-access", lambda: pool.mint_access_token(client_id=SERVER_CLIENT_ID)),
        ("unknown-kid", lambda: sign(id_claims(), kid="rotated-away-kid")),
        ("no-kid", lambda: sign(id_claims(), kid=None)),
        ("bad-signature", lambda: forged(pool.mint_id_token(), pool.mint_id_token(username="bob"))),
        ("nbf-future", lambda: sign(id_claims(extra={"nbf": now + 600}))),
        ("iat-future", lambda: sign(id_claims(iat=now + 600))),
        ("hs256", lambda: sign(id_claims(), alg="HS256", key=hs_key)),
        ("rs384-on-rs256-key", lambda: sign(id_claims(), alg="RS384")),
        ("exp-text", lambda: sign(id_claims(extra={"exp": "tomorrow"}))),
        ("aud-number", lambda: sign(id_claims(extra={"aud": 12345}))),
        ("expired-other-pool", lambda: other.sign(other.id_claims(iat=past))),
        ("expired-unknown-kid", lambda: sign(id_claims(iat=past), kid="rotated-away-kid")),
        ("expired-bad-signature", lambda: forged(sign(id_claims(iat=past)), pool.mint_id_token(username="bob"))),
        ("expired-other-client", lambda: sign(id_claims(client_id=SERVER_CLIENT_ID, iat=past))),
        ("expired-access-on-id", lambda: pool.sign(access_claims(iat=past), use="access")),
        ("expired-other-iss-our-key", lambda: sign(id_claims(iat=past, extra={"iss": other.issuer}))),
        ("nbf-future-other-client", lambda: sign(id_claims(client_id=SERVER_CLIENT_ID, extra={"nbf": now + 600}))),
        ("hs256-unknown-kid", lambda: sign(id_claims(), alg="HS256", key=hs_key, kid="rotated-away-kid")),
        ("no-kid-expired", lambda: sign(id_claims(iat=past), kid=None)),
        ("access-other-client", lambda: pool.mint_access_token(client_id=SERVER_CLIENT_ID)),
        ("bad-signature-other-iss", lambda: forged(sign(id_claims(extra={"iss": other.issuer})),
                                                   pool.mint_id_token(username="bob"))),
        ("nbf-future-access", lambda: pool.sign(access_claims(extra={"nbf": now + 600}), use="access")),
        ("exp-text-other-pool", lambda: other.sign(other.id_claims(extra={"exp": "tomorrow"}))),
        ("unknown-kid-other-client", lambda: sign(id_claims(client_id=SERVER_CLIENT_ID), kid="rotated-away-kid")),
    ]  # fmt: skip
    return [Token(name, make()) for name, make in rows]


@dataclass(frozen=True)
class Setting:
    name: str
    host: str
    path: str
    token_use: str | None
    client_id: str | None
    options: dict[str, Any]


SETTINGS = (
    Setting("rest-cognito", REST_HOST, "/prod/items", "id", None, {}),
    Setting("http-jwt", HTTP_HOST, "/items", None, WEB_CLIENT_ID, {"audiences": [WEB_CLIENT_ID]}),
)
REST_UNAUTHORIZED = b'{"message":"Unauthorized"}'  # docs/wire-reference.md, REST Cognito authorizer
REST_EXPIRED = b'{"message":"The incoming token has expired"}'
AUDIENCE = 'Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience"'


Answer = tuple[int, dict[str, str], bytes, str | None]


def _gateway(setting: Setting, token: str, issuer: Issuer, now: float) -> Answer:
    """What the sandbox's authorizer code answers for this token (status, headers, body, its cause)."""
    keyring = KeyRing({p.issuer: p.jwks() for p in issuer.pools.values()})
    value = "Bearer " + token
    if setting.name == "rest-cognito":
        result = cognito_rest(value, issuers=(issuer.pool.issuer,), keyring=keyring, scopes=(), now=now)
        if not isinstance(result, Refusal):
            return 200, {}, b"{}", None
        body = REST_EXPIRED if result.cause == "token-expired" else REST_UNAUTHORIZED
        return 401, {"x-amzn-ErrorType": "UnauthorizedException", "x-amzn-RequestId": "5e1d"}, body, result.cause
    result = jwt_http(value, issuer=issuer.pool.issuer, audiences=(WEB_CLIENT_ID,), scopes=(), keyring=keyring, now=now)
    if not isinstance(result, Refusal):
        return 200, {"apigw-requestid": "Jx9kLhQ2IAMEbXg="}, b"{}", None
    headers = {"apigw-requestid": "Jx9kLhQ2IAMEbXg="}
    if result.cause == "wrong-audience":
        headers["www-authenticate"] = AUDIENCE
    return 401, headers, REST_UNAUTHORIZED, result.cause


def _flow(setting: Setting, token: str, answer: Answer, now: float) -> http.HTTPFlow:
    headers = http.Headers(host=setting.host, authorization="Bearer " + token)
    request = tutils.treq(
        host=setting.host,
        port=443,
        scheme=b"https",
        method=b"GET",
        path=setting.path.encode(),
        headers=headers,
        content=b"",
    )
    request.timestamp_start = now
    status, reply_headers, body, _ = answer
    response = tutils.tresp(status_code=status, headers=http.Headers(), content=body)
    response.headers["content-type"] = "application/json"
    response.headers["date"] = formatdate(now, usegmt=True)
    for name, value in reply_headers.items():
        response.headers[name] = value
    return tflow.tflow(req=request, resp=response)


def _oracle(workdir: Path, issuer: Issuer, setting: Setting, tokens: list[Token]) -> list[dict[str, Any]]:
    document = {
        "userPoolId": issuer.pool.pool_id,
        "issuer": issuer.pool.issuer,
        "jwks": issuer.pool.jwks(),
        "cases": [{"token": t.value, "tokenUse": setting.token_use, "clientId": setting.client_id} for t in tokens],
    }
    done = subprocess.run(["node", "oracle.js"], cwd=workdir, input=json.dumps(document), capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_verdicts_agree_with_aws_jwt_verify(aws_jwt_verify: Path, tmp_path: Path, setting: Setting) -> None:
    issuer = Issuer()
    minted = int(time.time())
    tokens = _matrix(issuer, minted)
    now = minted + 2  # the gateway's Date, a moment after minting (its second may not have ended yet)
    assert len(tokens) >= 30
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(issuer.pool.jwks()))
    # One JWKS file as a plain PATH and one pool: the file is that pool's (as a user downloads it from Cognito).
    options = {"user_pools": [issuer.pool.pool_id], **setting.options}
    knowledge = Knowledge(make_expectations(**options), load_keystore([str(jwks)], pools=[issuer.pool.issuer]))
    verdicts = _oracle(aws_jwt_verify, issuer, setting, tokens)

    disagreements, missing_checks, compared = [], [], 0
    for token, oracle in zip(tokens, verdicts, strict=True):
        answer = _gateway(setting, token.value, issuer, now)
        d = diagnose_flow(_flow(setting, token.value, answer, now), knowledge)
        expected = CAUSE_OF_ERROR.get(oracle["first"]) if oracle["first"] else None
        if oracle["first"] and expected is None:
            pytest.fail(f"{token.name}: aws-jwt-verify error {oracle['first']} has no mapping")
        if answer[0] == 200:
            continue  # the gateway let it through: its answer decides (e.g. nbf, which REST authorizers ignore)
        assert d is not None, token.name
        failing = {c.id for c in d.checks if c.result == "fail"}
        reported = [oracle["first"], *oracle["claims"]] if oracle["first"] else oracle["claims"]
        for error in reported:
            wanted = CHECKS_OF_CAUSE[CAUSE_OF_ERROR[error]]
            if not wanted & failing:
                missing_checks.append(f"{token.name}: aws-jwt-verify says {error}; failing checks {sorted(failing)}")
        if expected is None:
            continue  # refused for a rule aws-jwt-verify does not check (HTTP APIs: iat in the future)
        generic_rest = setting.name == "rest-cognito" and answer[2] != REST_EXPIRED
        if expected == "token-expired" and generic_rest:
            continue  # a REST gateway says "The incoming token has expired" when expiry is what it rejected
        compared += 1
        if d.cause != expected:
            disagreements.append(f"{token.name}: apigw-doctor {d.cause}, aws-jwt-verify {oracle['first']}")
    assert not disagreements, "\n".join(disagreements)
    assert not missing_checks, "\n".join(missing_checks)
    assert compared >= 20
