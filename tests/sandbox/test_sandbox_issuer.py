"""Token shapes (wire-reference "Cognito tokens"), the JWKS, and the sandbox certificate."""

from __future__ import annotations

import base64
import json
import ssl
import time

import jwt
import pytest
from cryptography import x509

from apigw_doctor.sandbox.issuer import (
    OTHER_REGION_POOL_ID,
    WEB_CLIENT_ID,
    Issuer,
)
from apigw_doctor.sandbox.tls import make_certs

ID_CLAIMS = {"sub", "aud", "email_verified", "token_use", "auth_time", "iss", "cognito:username", "exp", "iat", "jti",
             "origin_jti"}  # fmt: skip
ACCESS_CLAIMS = {"sub", "token_use", "scope", "auth_time", "iss", "exp", "iat", "origin_jti", "jti", "client_id",
                 "username"}  # fmt: skip


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()


def _decode(issuer: Issuer, token: str, **kw) -> dict:
    jwks = jwt.PyJWKSet.from_dict(issuer.pool.jwks())
    key = jwks[jwt.get_unverified_header(token)["kid"]].key
    return jwt.decode(token, key, algorithms=["RS256"], issuer=issuer.pool.issuer, **kw)


def test_id_and_access_tokens_have_cognito_claims_and_distinct_kids(issuer: Issuer) -> None:
    tokens = issuer.pool.login("alice", WEB_CLIENT_ID)
    id_claims = _decode(issuer, tokens.id_token, audience=WEB_CLIENT_ID)
    access = _decode(issuer, tokens.access_token)
    assert set(id_claims) >= ID_CLAIMS and not {"scope", "client_id"} & set(id_claims)
    assert set(access) >= ACCESS_CLAIMS and "aud" not in access
    assert (id_claims["token_use"], access["token_use"]) == ("id", "access")
    assert id_claims["iss"] == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Sandbox01"
    assert id_claims["origin_jti"] == access["origin_jti"]
    h_id, h_access = jwt.get_unverified_header(tokens.id_token), jwt.get_unverified_header(tokens.access_token)
    assert h_id["alg"] == h_access["alg"] == "RS256"
    assert h_id["kid"] != h_access["kid"]
    assert {k["kid"] for k in issuer.pool.jwks()["keys"]} == {h_id["kid"], h_access["kid"]}
    assert access["exp"] - access["iat"] == 3600


def test_refresh_token_is_a_five_part_jwe(issuer: Issuer) -> None:
    token = issuer.pool.mint_refresh_token()
    parts = token.split(".")
    assert len(parts) == 5
    header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    assert header == {"cty": "JWT", "enc": "A256GCM", "alg": "RSA-OAEP"}


def test_lifetimes_and_issued_at_are_configurable(issuer: Issuer) -> None:
    past = int(time.time()) - 7200
    expired = issuer.pool.mint_id_token(iat=past, ttl=300)
    with pytest.raises(jwt.ExpiredSignatureError):
        _decode(issuer, expired, audience=WEB_CLIENT_ID)
    future = issuer.pool.mint_access_token(iat=int(time.time()) + 600)
    with pytest.raises(jwt.ImmatureSignatureError):
        _decode(issuer, future)


def test_other_pools_have_other_issuers(issuer: Issuer) -> None:
    assert issuer.other_region_pool.issuer == f"https://cognito-idp.eu-west-1.amazonaws.com/{OTHER_REGION_POOL_ID}"
    assert len({p.issuer for p in issuer.pools.values()}) == 3
    assert issuer.by_issuer(issuer.other_pool.issuer) is issuer.other_pool


def test_arbitrary_algorithms(issuer: Issuer) -> None:
    hs = issuer.pool.sign({"sub": "x"}, alg="HS256", key=b"k" * 32)
    assert jwt.get_unverified_header(hs)["alg"] == "HS256"
    assert "kid" not in jwt.get_unverified_header(issuer.pool.sign({"sub": "x"}, kid=None))


def test_certificate_covers_every_sandbox_name(tmp_path) -> None:
    paths = make_certs(tmp_path)
    leaf = x509.load_pem_x509_certificates(paths.cert.read_bytes())[0]
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = set(san.get_values_for_type(x509.DNSName))
    assert {"*.execute-api.us-east-1.amazonaws.com", "*.execute-api.eu-west-1.amazonaws.com",
            "*.lambda-url.us-east-1.on.aws", "*.auth.us-east-1.amazoncognito.com",
            "cognito-idp.us-east-1.amazonaws.com", "localhost"} <= names  # fmt: skip
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    ctx = ssl.create_default_context(cafile=str(paths.ca))  # the CA loads as a trust anchor
    assert ctx.cert_store_stats()["x509_ca"] == 1
