"""Authorizer profiles are data (profiles.py), and one reader reads a flow for every consumer (reading.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from apigw_doctor import checks
from apigw_doctor.engine import diagnose_flow
from apigw_doctor.knowledge import Knowledge, make_expectations
from apigw_doctor.profiles import PROFILES, AuthorizerProfile
from apigw_doctor.reading import read_credential, read_flow

from .builders import CLIENT, HTTP_401, HTTP_HOST, NOW, REST_401, REST_EXPIRED, flow, mint


def test_every_profile_is_one_entry_with_its_rules():
    assert set(PROFILES) == {"cognito", "jwt", "lambda", "iam", "none"}
    for name, entry in PROFILES.items():
        assert entry.name == name
        assert all(callable(check) for check in entry.checks)
    assert PROFILES["cognito"].algorithms == ("RS256",)
    assert PROFILES["cognito"].audience == "unchecked" and PROFILES["jwt"].audience == "aud-or-client"
    assert PROFILES["jwt"].iat_strict and not PROFILES["cognito"].iat_strict
    assert PROFILES["none"].checks == ()


def test_checks_read_the_profile_fields_not_the_name(monkeypatch):
    """A new profile is one entry: a JWT reader named otherwise gets the JWT checks' verdicts from its fields."""
    custom = dataclasses.replace(PROFILES["jwt"], name="jwt")  # same rules
    strict_alg = dataclasses.replace(custom, algorithms=("RS512",))
    monkeypatch.setitem(PROFILES, "jwt", strict_alg)
    f = flow(HTTP_401, host=HTTP_HOST, request_headers={"Authorization": mint()})
    d = diagnose_flow(f, Knowledge(make_expectations(authorizer="jwt")))
    assert d is not None and d.cause == "unsupported-algorithm"
    source = Path(checks.__file__).read_text()
    assert "ctx.profile ==" not in source and "ctx.profile in" not in source
    assert isinstance(strict_alg, AuthorizerProfile)


def test_iat_strictness_comes_from_the_profile():
    token = mint(iat=NOW + 600)
    for authorizer, cause in (("jwt", "token-not-yet-valid"), ("cognito", "authorizer-rejected")):
        host = HTTP_HOST if authorizer == "jwt" else "abc123defg.execute-api.us-east-1.amazonaws.com"
        response = HTTP_401 if authorizer == "jwt" else REST_401
        d = diagnose_flow(
            flow(response, host=host, request_headers={"Authorization": token}),
            Knowledge(make_expectations(authorizer=authorizer)),
        )
        assert d is not None and d.cause == cause, authorizer


def test_read_flow_is_what_the_verdict_used():
    token = mint(exp=NOW - 60, aud=CLIENT)
    f = flow(REST_EXPIRED, request_headers={"Authorization": "Bearer " + token}, sent_at=NOW + 30)
    reading = read_flow(f, Knowledge())
    assert reading is not None and reading.reply is not None
    assert reading.credential.kind == "jwt" and reading.credential.location == "header:Authorization"
    assert reading.token is not None and reading.token.token_use == "id"
    assert reading.now == NOW  # the gateway's Date, not the proxy's clock (sent_at)
    assert reading.target.stage == "prod" and not reading.http_api
    assert reading.reply.status == 401


def test_read_flow_without_a_response_reads_the_request_side_only():
    f = flow(None, request_headers={"Authorization": mint()}, sent_at=NOW + 5)
    reading = read_flow(f, Knowledge())
    assert reading is not None and reading.reply is None and reading.now == NOW + 5
    assert reading.token is not None


def test_read_flow_ignores_unwatched_hosts():
    assert read_flow(flow(REST_401, host="example.com"), Knowledge()) is None


def test_read_credential_is_the_token_command_reading():
    credential, token = read_credential("Bearer " + mint(use="access"))
    assert credential.kind == "jwt" and token is not None and token.token_use == "access"
    credential, token = read_credential("undefined")
    assert credential.kind == "placeholder" and token is None
