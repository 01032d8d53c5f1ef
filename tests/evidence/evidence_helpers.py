"""Builders shared by the evidence tests: real RS256 tokens from a throwaway key, flows, metadata dicts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from mitmproxy import http
from mitmproxy.net.http import status_codes
from mitmproxy.test import tflow, tutils

from apigw_doctor.model import Diagnosis, Finding, Target

API_HOST = "abc123defg.execute-api.eu-west-1.amazonaws.com"
IDP_HOST = "cognito-idp.eu-west-1.amazonaws.com"
OAUTH_HOST = "myapp.auth.eu-west-1.amazoncognito.com"
POOL = "eu-west-1_AbCdEf123"
ISSUER = f"https://cognito-idp.eu-west-1.amazonaws.com/{POOL}"
CLIENT = "1example23456789abcdefghij"
NOW = 1_790_000_000.0  # a fixed "now" so names and timelines are reproducible


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Keys:
    private: rsa.RSAPrivateKey
    public: rsa.RSAPublicKey


def make_keys() -> Keys:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return Keys(private, private.public_key())


def mint(keys: Keys, claims: dict[str, Any], kid: str = "kid-1") -> str:
    return jwt.encode(claims, keys.private, algorithm="RS256", headers={"kid": kid})


def id_claims(exp: float = NOW - 30) -> dict[str, Any]:
    return {
        "sub": "11111111-2222-3333-4444-555555555555",
        "aud": CLIENT,
        "email": "alice@example.com",
        "token_use": "id",
        "auth_time": int(NOW - 3600),
        "iss": ISSUER,
        "cognito:username": "alice",
        "exp": int(exp),
        "iat": int(NOW - 3600),
    }


def access_claims(exp: float = NOW + 600) -> dict[str, Any]:
    return {
        "sub": "11111111-2222-3333-4444-555555555555",
        "iss": ISSUER,
        "client_id": CLIENT,
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "auth_time": int(NOW - 600),
        "exp": int(exp),
        "iat": int(NOW - 600),
        "jti": "0f0e0d0c-0b0a-0908-0706-050403020100",
        "username": "alice",
    }


def jwe_like() -> str:
    """A Cognito-style refresh token: a 5-part JWE whose parts after the header are random."""
    header = b64url(json.dumps({"cty": "JWT", "enc": "A256GCM", "alg": "RSA-OAEP"}).encode())
    return ".".join([header, *(b64url(secrets.token_bytes(n)) for n in (256, 12, 600, 16))])


def signature_of(token: str) -> str:
    return token.rsplit(".", 1)[1]


def secret_hash(username: str, client_id: str, client_secret: str) -> str:
    digest = hmac.new(client_secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def make_flow(
    *,
    host: str = API_HOST,
    method: str = "GET",
    path: str = "/prod/pets",
    headers: list[tuple[str, str]] | None = None,
    content: bytes = b"",
    status: int | None = 401,
    response_headers: list[tuple[str, str]] | None = None,
    response_content: bytes = b'{"message":"Unauthorized"}',
    request_time: float = NOW,
    gateway_date: float | None = NOW,
    metadata: dict[str, Any] | None = None,
) -> http.HTTPFlow:
    req_headers = http.Headers([(b"host", host.encode()), *((k.encode(), v.encode()) for k, v in headers or [])])
    req = tutils.treq(
        host=host,
        port=443,
        scheme=b"https",
        method=method.encode(),
        path=path.encode(),
        headers=req_headers,
        content=content,
        timestamp_start=request_time,
        timestamp_end=request_time + 0.01,
    )
    resp: http.Response | bool = False
    if status is not None:
        fields = list(response_headers or [])
        if gateway_date is not None:
            fields.append(("Date", formatdate(gateway_date, usegmt=True)))
        resp = tutils.tresp(
            status_code=status,
            reason=status_codes.RESPONSES.get(status, "").encode(),
            headers=http.Headers([(k.encode(), v.encode()) for k, v in fields]),
            content=response_content,
            timestamp_start=request_time + 0.05,
            timestamp_end=request_time + 0.06,
        )
    f = tflow.tflow(req=req, resp=resp, err=status is None)
    if metadata is not None:
        f.metadata["apigw_doctor"] = metadata
    return f


def metadata(
    *,
    cause: str | None = "token-expired",
    title: str = "The ID token expired before API Gateway checked it",
    summary: str = "exp was 30 s before the gateway's clock.",
    surface: str = "rest",
    api_id: str | None = "abc123defg",
    region: str | None = "eu-west-1",
    stage: str | None = "prod",
    claims: dict[str, Any] | None = None,
    token_header: dict[str, Any] | None = None,
    fingerprint: str = "0123456789",
    warnings: tuple[str, ...] = (),
    checks: tuple[Finding, ...] | None = None,
) -> dict[str, Any]:
    """A metadata dict built by the real `Diagnosis.as_metadata()`, with the token shaped as the engine stores it."""
    token = None
    if claims is not None:
        token = {
            "header": token_header or {"alg": "RS256", "kid": "kid-1"},
            "claims": claims,
            "fingerprint": fingerprint,
        }
    if checks is None:
        checks = (
            Finding("issuer", "pass", ISSUER, ISSUER),
            Finding("exp", "fail", "exp > now", "expired 30 s ago", note="by the gateway's Date", cause=cause),
            Finding("scope", "skip", None, None, note="no scopes required | none sent"),
        )
    return Diagnosis(
        cause=cause,
        confidence="high" if cause else None,
        title=title,
        summary=summary,
        evidence=("token exp 2026-09-21T14:12:50Z", "gateway Date 2026-09-21T14:13:20Z"),
        fix=("Refresh the token before exp.", "Use the refresh token at /oauth2/token."),
        checks=checks,
        target=Target(surface=surface, host=API_HOST, api_id=api_id, region=region, stage=stage),  # type: ignore[arg-type]
        token=token,
        warnings=warnings,
    ).as_metadata()


TAG_KEY = b"evidence-tests-k"  # the tag key the evidence tests run with (conftest.py)


def tag_of(value: str) -> str:
    """The tag redaction gives `value` in these tests (an HMAC under TAG_KEY, never a plain hash)."""
    from apigw_doctor.evidence.redact import tag

    return tag(TAG_KEY, value)
