"""Plant known secrets in every place a credential travels, export everything, and scan every produced file.

A secret counts as leaked if any 16-character window of it (or the whole of a shorter one) appears in any artifact,
raw, URL-encoded, JSON-escaped or base64-wrapped. Every JWT found in the artifacts must fail verification against the
key that minted the originals, and the evidence that helps (claims, error headers, request ids, key prefixes,
fingerprints) must still be there.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import secrets
from pathlib import Path
from urllib.parse import quote, quote_plus

import jwt
import pytest
from mitmproxy.addons import view
from mitmproxy.test import taddons

from apigw_doctor import tokens
from apigw_doctor.evidence.addon import EvidenceExporter
from apigw_doctor.evidence.bundle import write_bundle, write_bundles
from apigw_doctor.evidence.har import write_har
from tests.evidence.evidence_helpers import (
    CLIENT,
    IDP_HOST,
    OAUTH_HOST,
    access_claims,
    id_claims,
    jwe_like,
    make_flow,
    make_keys,
    metadata,
    mint,
    secret_hash,
    signature_of,
    tag_of,
)

WINDOW = 16
KEYS = make_keys()
ID_TOKEN = mint(KEYS, id_claims())
ACCESS_TOKEN = mint(KEYS, access_claims())
QUERY_TOKEN = mint(KEYS, {**access_claims(), "jti": "query-token"})
REFRESH_JWE = jwe_like()
OPAQUE_REFRESH = "opq" + secrets.token_urlsafe(48)
CLIENT_SECRET_BASIC = secrets.token_urlsafe(40)
CLIENT_SECRET_FORM = secrets.token_urlsafe(40)
PASSWORD = "Pw-" + secrets.token_urlsafe(12)
SECRET_HASH = secret_hash("alice", CLIENT, CLIENT_SECRET_FORM)
COOKIE_VALUE = secrets.token_urlsafe(32)
SET_COOKIE_VALUE = secrets.token_urlsafe(32)
API_KEY = "Ak9z" + secrets.token_urlsafe(30).replace("-", "x").replace("_", "y")
ACCESS_KEY_ID = "ASIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
SESSION_TOKEN = "IQoJb3JpZ2luX2Vj" + base64.b64encode(secrets.token_bytes(300)).decode()
SIGV4_SIGNATURE = secrets.token_hex(32)
PRESIGN_SIGNATURE = secrets.token_hex(32)
AUTH_CODE = secrets.token_urlsafe(24)
CODE_VERIFIER = secrets.token_urlsafe(48)
COGNITO_SESSION = secrets.token_urlsafe(120)
FACEBOOK_TOKEN = "EAAB" + secrets.token_urlsafe(60)
IDENTITY_SECRET_KEY = secrets.token_urlsafe(30)

# Parts of a secret that must never appear (a JWT's header and claims are meant to stay; its signature is not).
SECRET_PARTS = {
    "id token signature": signature_of(ID_TOKEN),
    "access token signature": signature_of(ACCESS_TOKEN),
    "query token signature": signature_of(QUERY_TOKEN),
    "refresh JWE body": REFRESH_JWE.split(".", 1)[1],
    "opaque refresh token": OPAQUE_REFRESH,
    "client secret (Basic)": CLIENT_SECRET_BASIC,
    "client secret (form)": CLIENT_SECRET_FORM,
    "password": PASSWORD,
    "SECRET_HASH": SECRET_HASH,
    "cookie value": COOKIE_VALUE,
    "Set-Cookie value": SET_COOKIE_VALUE,
    "API key beyond its prefix": API_KEY[4:],
    "access key id beyond its prefix": ACCESS_KEY_ID[4:],
    "session token": SESSION_TOKEN,
    "SigV4 signature": SIGV4_SIGNATURE,
    "presigned URL signature": PRESIGN_SIGNATURE,
    "authorization code": AUTH_CODE,
    "PKCE verifier": CODE_VERIFIER,
    "Cognito session": COGNITO_SESSION,
    "identity-pool login (Facebook)": FACEBOOK_TOKEN,
    "identity-pool SecretKey": IDENTITY_SECRET_KEY,
    "Basic credentials": base64.b64encode(f"{CLIENT}:{CLIENT_SECRET_BASIC}".encode()).decode(),
}

REQUEST_IDS = {
    "x-amzn-RequestId": "0b6c4d2e-8f5b-4a3c-9e1d-7f2a6b5c4d3e",
    "x-amz-apigw-id": "W_AP1ZWIiYdDlQw=",
    "apigw-requestid": "Q1w2E3r4T5y6Aa=",
    "x-amz-cf-id": "a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ==",
}
WWW_AUTHENTICATE = 'Bearer scope="" error="invalid_token" error_description="the token has expired"'


def planted_flows():
    api_meta = metadata(claims=id_claims(), fingerprint=tokens.fingerprint(signature_of(ID_TOKEN)))
    api = make_flow(
        path=(
            f"/prod/pets?access_token={QUERY_TOKEN}&api_key={API_KEY}&limit=5"
            f"&X-Amz-Security-Token={quote(SESSION_TOKEN, safe='')}&X-Amz-Signature={PRESIGN_SIGNATURE}"
            f"&X-Amz-Credential={ACCESS_KEY_ID}%2F20260921%2Feu-west-1%2Fexecute-api%2Faws4_request"
        ),
        headers=[
            ("Authorization", f"Bearer {ID_TOKEN}"),
            ("X-Id-Token", ID_TOKEN),
            ("x-api-key", API_KEY),
            ("Cookie", f"session={COOKIE_VALUE}; idToken={ID_TOKEN}; theme=dark"),
            ("Referer", f"https://app.example.com/cb?code={AUTH_CODE}&state=s1"),
        ],
        response_headers=[
            ("Content-Type", "application/json"),
            ("www-authenticate", WWW_AUTHENTICATE),
            ("x-amzn-ErrorType", "UnauthorizedException"),
            ("Set-Cookie", f"sid={SET_COOKIE_VALUE}; Path=/; Secure; HttpOnly"),
            *REQUEST_IDS.items(),
        ],
        metadata=api_meta,
    )
    sigv4 = make_flow(
        method="POST",
        headers=[
            (
                "Authorization",
                f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/20260921/eu-west-1/execute-api/aws4_request, "
                f"SignedHeaders=host;x-amz-date;x-amz-security-token, Signature={SIGV4_SIGNATURE}",
            ),
            ("X-Amz-Security-Token", SESSION_TOKEN),
            ("X-Amz-Date", "20260921T141320Z"),
        ],
        content=json.dumps({"note": f"debug copy: Bearer {ACCESS_TOKEN}"}).encode(),
        status=403,
        response_headers=[("x-amzn-ErrorType", "InvalidSignatureException"), *REQUEST_IDS.items()],
        response_content=b'{"message":"The request signature we calculated does not match the signature."}',
        metadata=metadata(cause="sigv4-signature-mismatch", title="SigV4 signature mismatch", claims=None),
    )
    initiate = make_flow(
        host=IDP_HOST,
        method="POST",
        path="/",
        headers=[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "AWSCognitoIdentityProviderService.InitiateAuth"),
        ],
        content=json.dumps(
            {
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": CLIENT,
                "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD, "SECRET_HASH": SECRET_HASH},
            }
        ).encode(),
        status=200,
        response_headers=[("x-amzn-RequestId", "1c2d3e4f-0000-1111-2222-333344445555")],
        response_content=json.dumps(
            {
                "AuthenticationResult": {
                    "AccessToken": ACCESS_TOKEN,
                    "IdToken": ID_TOKEN,
                    "RefreshToken": REFRESH_JWE,
                    "ExpiresIn": 3600,
                    "TokenType": "Bearer",
                },
                "ChallengeParameters": {},
                "Session": COGNITO_SESSION,
            }
        ).encode(),
        metadata=metadata(cause="cognito-secret-hash", surface="cognito-idp", api_id=None, stage=None, claims=None),
    )
    refresh = make_flow(
        host=IDP_HOST,
        method="POST",
        path="/",
        headers=[("Content-Type", "application/x-amz-json-1.1")],
        content=json.dumps(
            {
                "AuthFlow": "REFRESH_TOKEN_AUTH",
                "ClientId": CLIENT,
                "AuthParameters": {"REFRESH_TOKEN": REFRESH_JWE, "SECRET_HASH": SECRET_HASH},
            }
        ).encode(),
        status=400,
        response_headers=[
            ("x-amzn-ErrorType", "NotAuthorizedException:"),
            ("x-amzn-errormessage", "Invalid Refresh Token"),
        ],
        response_content=b'{"__type":"NotAuthorizedException","message":"Invalid Refresh Token"}',
        metadata=metadata(cause="cognito-token-revoked", surface="cognito-idp", api_id=None, stage=None),
    )
    basic = base64.b64encode(f"{CLIENT}:{CLIENT_SECRET_BASIC}".encode()).decode()
    oauth = make_flow(
        host=OAUTH_HOST,
        method="POST",
        path="/oauth2/token",
        headers=[("Authorization", f"Basic {basic}"), ("Content-Type", "application/x-www-form-urlencoded")],
        content=(
            f"grant_type=refresh_token&client_id={CLIENT}&client_secret={quote_plus(CLIENT_SECRET_FORM)}"
            f"&refresh_token={OPAQUE_REFRESH}&code={AUTH_CODE}&code_verifier={CODE_VERIFIER}"
        ).encode(),
        status=200,
        response_headers=[("Content-Type", "application/json")],
        response_content=json.dumps(
            {
                "id_token": ID_TOKEN,
                "access_token": ACCESS_TOKEN,
                "refresh_token": OPAQUE_REFRESH,
                "token_type": "Bearer",
                "expires_in": 3600,
            }
        ).encode(),
        metadata=metadata(cause="oauth-invalid-grant", surface="cognito-oauth", api_id=None, stage=None),
    )
    implicit = make_flow(
        host=OAUTH_HOST,
        path="/oauth2/authorize?response_type=token&client_id=" + CLIENT,
        status=302,
        response_headers=[
            ("Location", f"https://app.example.com/cb#id_token={ID_TOKEN}&access_token={ACCESS_TOKEN}&state=s1")
        ],
        response_content=b"",
        metadata=metadata(cause="oauth-invalid-scope", surface="cognito-oauth", api_id=None, stage=None),
    )
    identity = make_flow(
        host="cognito-identity.eu-west-1.amazonaws.com",
        method="POST",
        path="/",
        headers=[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "AWSCognitoIdentityService.GetCredentialsForIdentity"),
        ],
        content=json.dumps(
            {
                "IdentityId": "eu-west-1:4f1c0a3e-9a8b-4c7d-8e6f-0123456789ab",
                "Logins": {
                    "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123": ID_TOKEN,
                    "graph.facebook.com": FACEBOOK_TOKEN,
                },
            }
        ).encode(),
        status=200,
        response_headers=[("x-amzn-RequestId", "2d3e4f5a-0000-1111-2222-333344445555")],
        response_content=json.dumps(
            {
                "Credentials": {
                    "AccessKeyId": ACCESS_KEY_ID,
                    "SecretKey": IDENTITY_SECRET_KEY,
                    "SessionToken": SESSION_TOKEN,
                    "Expiration": 1790003600,
                },
                "IdentityId": "eu-west-1:4f1c0a3e-9a8b-4c7d-8e6f-0123456789ab",
            }
        ).encode(),
        metadata=metadata(cause="identity-pool-config", surface="cognito-identity", api_id=None, stage=None),
    )
    return [api, sigv4, initiate, refresh, oauth, implicit, identity]


def encodings(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}


def leaks(text: str) -> list[str]:
    found = []
    for name, secret in SECRET_PARTS.items():
        for form in encodings(secret):
            windows = [form] if len(form) <= WINDOW else [form[i : i + WINDOW] for i in range(len(form) - WINDOW + 1)]
            if any(w in text for w in windows):
                found.append(name)
                break
    return found


def artifact_texts(root: Path) -> dict[Path, str]:
    files = [p for p in root.rglob("*") if p.is_file()]
    assert files, f"nothing written under {root}"
    texts = {p: p.read_text(encoding="utf-8") for p in files}
    # A second layer: base64-wrapped content in a HAR (binary bodies) must be scanned decoded too.
    for p, text in list(texts.items()):
        for blob in re.findall(r'"text":\s*"([A-Za-z0-9+/=]{40,})"', text):
            with contextlib.suppress(ValueError):
                texts[p.with_suffix(p.suffix + ".b64")] = base64.b64decode(blob).decode("utf-8", "replace")
    return texts


JWT_FIND = re.compile(r"e[wy][A-Za-z0-9_-]{4,}\.e[wy][A-Za-z0-9_-]*\.[A-Za-z0-9_-]+")


def assert_safe(root: Path) -> str:
    texts = artifact_texts(root)
    for path, text in texts.items():
        assert not leaks(text), f"{path.relative_to(root)} leaks {leaks(text)}"
        for token in JWT_FIND.findall(text):
            with pytest.raises((jwt.InvalidSignatureError, jwt.DecodeError)):
                jwt.decode(token, KEYS.public, algorithms=["RS256"], options={"verify_exp": False, "verify_aud": False})
    return "\n".join(texts.values())


def assert_evidence_kept(text: str) -> None:
    id_fp = f"REDACTED-SIG-{tag_of(signature_of(ID_TOKEN))}"
    stripped_id = ID_TOKEN.rsplit(".", 1)[0]
    assert f"{stripped_id}.{id_fp}" in text  # header + claims intact, signature replaced by its fingerprint
    assert "alice@example.com" in text and "11111111-2222-3333-4444-555555555555" in text
    assert "the token has expired" in text and "UnauthorizedException" in text
    for value in REQUEST_IDS.values():
        assert value in text
    assert API_KEY[:4] + "...REDACTED-" in text
    assert "ASIA-REDACTED-" in text and "/20260921/eu-west-1/execute-api/aws4_request" in text
    assert "SignedHeaders=host;x-amz-date;x-amz-security-token" in text
    assert "sanitized-by: apigw-doctor" in text
    assert "session=REDACTED-" in text and "sid=REDACTED-" in text  # cookie names kept


def assert_same_fingerprint_everywhere(text: str) -> None:
    tag = f"REDACTED-SIG-{tag_of(signature_of(ID_TOKEN))}"
    # Authorization, X-Id-Token, cookie, AuthenticationResult, OAuth JSON and the Location fragment all carry it.
    assert text.count(tag) >= 6


def test_bundle_per_flow_leaks_nothing_and_keeps_the_evidence(tmp_path):
    flows = planted_flows()
    before = [f.get_state() for f in flows]
    for f in flows:
        write_bundle(f, tmp_path / "single")
    text = assert_safe(tmp_path / "single")
    assert_evidence_kept(text)
    assert_same_fingerprint_everywhere(text)
    assert [f.get_state() for f in flows] == before
    assert len(list((tmp_path / "single").iterdir())) == len(flows)


def test_bundle_of_many_flows_and_har_leak_nothing(tmp_path):
    flows = planted_flows()
    write_bundles(flows, tmp_path / "many")
    write_har(flows, tmp_path / "all.har")
    text = assert_safe(tmp_path)
    assert_evidence_kept(text)


def test_addon_hook_and_commands_leak_nothing(tmp_path):
    flows = planted_flows()

    async def run():
        exporter = EvidenceExporter()
        v = view.View()
        with taddons.context(v, exporter) as tctx:
            tctx.configure(exporter, apigw_evidence_dir=str(tmp_path / "live"))
            for f in flows:
                exporter.response(f)
            v.add(flows)
            tctx.command(exporter.evidence, "@all", str(tmp_path / "cmd"))
            tctx.command(exporter.har, "@all", str(tmp_path / "cmd.har"))
            exporter.done()

    asyncio.run(run())
    assert len(list((tmp_path / "live").iterdir())) == len(flows)
    text = assert_safe(tmp_path)
    assert_evidence_kept(text)


def test_the_scanner_would_catch_a_leak(tmp_path):
    (tmp_path / "bad.txt").write_text(f"oops {quote(SESSION_TOKEN, safe='')[100:140]}")
    assert leaks((tmp_path / "bad.txt").read_text()) == ["session token"]
    (tmp_path / "bad.txt").write_text(ID_TOKEN)
    with pytest.raises(AssertionError, match="id token signature"):
        assert_safe(tmp_path)
    (tmp_path / "bad.txt").write_text(mint(KEYS, {"sub": "x"}))  # not planted, but it verifies
    with pytest.raises(pytest.fail.Exception, match="DID NOT RAISE"):
        assert_safe(tmp_path)


def test_html_timeline_leaks_nothing(tmp_path):
    """The timeline report (`analyze --html`, `apigw.report`, report.html in bundles) holds no planted secret."""
    from apigw_doctor.addon import annotate
    from apigw_doctor.conversation import flow_fingerprint
    from apigw_doctor.engine import observe_flow
    from apigw_doctor.knowledge import Knowledge
    from apigw_doctor.report.html import write_report

    flows = planted_flows()
    knowledge = Knowledge()
    for f in flows:
        if diagnosis := observe_flow(f, knowledge):
            annotate(f, diagnosis)
    write_report(flows, tmp_path / "timeline" / "report.html", lambda f: flow_fingerprint(f, knowledge))
    for f in flows:
        write_bundle(f, tmp_path / "bundles")
    htmls = list(tmp_path.rglob("report.html"))
    assert len(htmls) == len(flows) + 1  # one per bundle, beside report.md, and the timeline
    text = assert_safe(tmp_path)
    assert text.count('class="lane"') >= len(flows) and 'data-cause="token-expired"' in text
