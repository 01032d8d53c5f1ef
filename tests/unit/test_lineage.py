"""Token lineage: the Cognito answer reader and the bounded store, with tokens minted by the sandbox issuer."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest

from apigw_doctor.cognito_answers import read_answer, token_fingerprint
from apigw_doctor.lineage import Answer, Issued, Lineage
from apigw_doctor.sandbox.issuer import DEFAULT_USER, WEB_CLIENT_ID, Issuer
from apigw_doctor.tokens import decode_token, fingerprint

IDP = "AWSCognitoIdentityProviderService."
T0 = float(int(time.time()))  # the issuer mints at the wall clock; the store prunes by exp


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return Issuer()


def _idp(operation: str, request: dict, response: dict, status: int = 200) -> Answer | None:
    headers = {"x-amz-target": IDP + operation, "content-type": "application/x-amz-json-1.1"}
    return read_answer("POST", "/", headers, json.dumps(request).encode(), status, json.dumps(response).encode())


def _auth_result(tokens) -> dict:
    result = {"AccessToken": tokens.access_token, "IdToken": tokens.id_token, "ExpiresIn": 3600}
    if tokens.refresh_token:
        result["RefreshToken"] = tokens.refresh_token
    return {"AuthenticationResult": result}


def test_initiate_auth_answer_gives_fingerprints_kinds_client_and_exp(issuer: Issuer) -> None:
    tokens = issuer.pool.login(DEFAULT_USER, WEB_CLIENT_ID)
    answer = _idp("InitiateAuth", {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": WEB_CLIENT_ID}, _auth_result(tokens))
    assert answer is not None and answer.operation == "InitiateAuth" and answer.presented_refresh is None
    by_kind = {i.kind: i for i in answer.issued}
    assert set(by_kind) == {"id", "access", "refresh"}
    # The same tags the engine gives the tokens when a later request carries them.
    assert by_kind["id"].fingerprint == decode_token(tokens.id_token).fingerprint
    assert by_kind["access"].fingerprint == decode_token(tokens.access_token).fingerprint
    assert by_kind["refresh"].fingerprint == fingerprint(tokens.refresh_token)  # 5-part JWE: the whole value
    assert by_kind["id"].client == by_kind["access"].client == by_kind["refresh"].client == WEB_CLIENT_ID
    assert by_kind["id"].exp == decode_token(tokens.id_token).claims["exp"]
    assert by_kind["refresh"].claims["sub"] == by_kind["id"].claims["sub"]  # so a sign-out reaches it


def test_no_token_value_survives_in_answers_or_records(issuer: Issuer) -> None:
    tokens = issuer.pool.login(DEFAULT_USER, WEB_CLIENT_ID)
    answer = _idp("InitiateAuth", {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": WEB_CLIENT_ID}, _auth_result(tokens))
    assert answer is not None
    store = Lineage()
    records = store.record(answer, 1, T0)
    text = repr(answer) + json.dumps([r.as_dict() for r in records])
    for secret in (tokens.id_token, tokens.access_token, tokens.refresh_token):
        assert secret.split(".")[-1] not in text
    assert tokens.refresh_token not in text


def test_challenge_and_failures_issue_nothing(issuer: Issuer) -> None:
    tokens = issuer.pool.login(DEFAULT_USER, WEB_CLIENT_ID)
    assert _idp("RespondToAuthChallenge", {}, {"ChallengeName": "SMS_MFA", "Session": "x"}) is None
    assert _idp("InitiateAuth", {}, _auth_result(tokens), status=400) is None
    assert _idp("GetUser", {"AccessToken": tokens.access_token}, {"Username": "alice"}) is None


def test_refresh_links_new_tokens_to_the_ones_they_replace(issuer: Issuer) -> None:
    pool = issuer.pool
    first = pool.login(DEFAULT_USER, WEB_CLIENT_ID)
    second = pool.refresh(first.refresh_token, WEB_CLIENT_ID)
    assert second is not None
    store = Lineage()
    store.record(_idp("InitiateAuth", {"ClientId": WEB_CLIENT_ID}, _auth_result(first)), 12, T0)
    request = {"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": WEB_CLIENT_ID,
               "AuthParameters": {"REFRESH_TOKEN": first.refresh_token}}  # fmt: skip
    answer = _idp("InitiateAuth", request, _auth_result(second))
    assert answer is not None and answer.operation == "InitiateAuth REFRESH_TOKEN_AUTH"
    assert answer.presented_refresh == fingerprint(first.refresh_token)
    store.record(answer, 31, T0 + 3000)
    old = store.lookup(decode_token(first.id_token).fingerprint)
    new = store.lookup(decode_token(second.id_token).fingerprint)
    assert old is not None and new is not None
    assert old.issued.number == 12 and old.issued.operation == "InitiateAuth"
    assert old.replaced_by is not None and old.replaced_by.number == 31
    assert old.replaced_by_token == new.fingerprint and new.replaces == old.fingerprint
    old_access = store.lookup(decode_token(first.access_token).fingerprint)
    assert old_access is not None and old_access.replaced_by_token == decode_token(second.access_token).fingerprint
    assert "InitiateAuth REFRESH_TOKEN_AUTH in flow #31" in old.replaced_by.describe(T0 + 3180)


def test_oauth_token_endpoint_grants(issuer: Issuer) -> None:
    pool = issuer.pool
    first = pool.login(DEFAULT_USER, WEB_CLIENT_ID)
    second = pool.refresh(first.refresh_token, WEB_CLIENT_ID)
    assert second is not None
    headers = {"content-type": "application/x-www-form-urlencoded"}

    def token(form: dict, payload: dict) -> Answer | None:
        return read_answer(
            "POST", "/oauth2/token", headers, urlencode(form).encode(), 200, json.dumps(payload).encode()
        )

    code = token({"grant_type": "authorization_code", "client_id": WEB_CLIENT_ID, "code": "c"},
                 {"id_token": first.id_token, "access_token": first.access_token,
                  "refresh_token": first.refresh_token, "expires_in": 3600})  # fmt: skip
    refresh = token({"grant_type": "refresh_token", "client_id": WEB_CLIENT_ID, "refresh_token": first.refresh_token},
                    {"id_token": second.id_token, "access_token": second.access_token, "expires_in": 3600})  # fmt: skip
    machine = token({"grant_type": "client_credentials"}, {"access_token": pool.mint_machine_token()})
    assert code is not None and code.operation == "/oauth2/token authorization_code" and len(code.issued) == 3
    assert refresh is not None and refresh.presented_refresh == fingerprint(first.refresh_token)
    assert machine is not None and [i.kind for i in machine.issued] == ["access"]
    store = Lineage()
    store.record(code, 3, T0)
    store.record(refresh, 9, T0 + 60)
    old = store.lookup(decode_token(first.id_token).fingerprint)
    assert (
        old is not None and old.replaced_by is not None and old.replaced_by.operation == "/oauth2/token refresh_token"
    )


def test_revocations_reach_the_session_or_the_user(issuer: Issuer) -> None:
    pool = issuer.pool
    mine, other = pool.login(DEFAULT_USER, WEB_CLIENT_ID), pool.login("bob", WEB_CLIENT_ID)
    store = Lineage()
    store.record(_idp("InitiateAuth", {"ClientId": WEB_CLIENT_ID}, _auth_result(mine)), 1, T0)
    store.record(_idp("InitiateAuth", {"ClientId": WEB_CLIENT_ID}, _auth_result(other)), 2, T0)
    signout = _idp("GlobalSignOut", {"AccessToken": mine.access_token}, {})
    assert signout is not None and signout.revocation is not None
    store.record(signout, 5, T0 + 10)
    for value in (mine.id_token, mine.access_token, mine.refresh_token):
        record = store.lookup(token_fingerprint(value))
        assert record is not None and record.revoked is not None and record.revoked.number == 5
    for value in (other.id_token, other.refresh_token):
        record = store.lookup(token_fingerprint(value))
        assert record is not None and record.revoked is None
    revoke = _idp("RevokeToken", {"Token": other.refresh_token, "ClientId": WEB_CLIENT_ID}, {})
    store.record(revoke, 6, T0 + 20)
    record = store.lookup(token_fingerprint(other.access_token))
    assert record is not None and record.revoked is not None and record.revoked.operation == "RevokeToken"


def test_admin_sign_out_and_oauth_revoke(issuer: Issuer) -> None:
    pool = issuer.pool
    tokens = pool.login(DEFAULT_USER, WEB_CLIENT_ID)
    store = Lineage()
    store.record(_idp("InitiateAuth", {"ClientId": WEB_CLIENT_ID}, _auth_result(tokens)), 1, T0)
    elsewhere = _idp("AdminUserGlobalSignOut", {"Username": DEFAULT_USER, "UserPoolId": "us-east-1_Elsewhere"}, {})
    assert elsewhere is not None
    store.record(elsewhere, 2, T0)
    assert store.lookup(token_fingerprint(tokens.id_token)).revoked is None  # type: ignore[union-attr]
    store.record(_idp("AdminUserGlobalSignOut", {"Username": DEFAULT_USER, "UserPoolId": pool.pool_id}, {}), 3, T0)
    assert store.lookup(token_fingerprint(tokens.id_token)).revoked.number == 3  # type: ignore[union-attr]
    form = urlencode({"token": tokens.refresh_token, "client_id": WEB_CLIENT_ID}).encode()
    headers = {"content-type": "application/x-www-form-urlencoded"}
    revoke = read_answer("POST", "/oauth2/revoke", headers, form, 200, b"")
    assert revoke is not None and revoke.revocation is not None
    assert revoke.revocation.refresh == fingerprint(tokens.refresh_token)


def test_identity_pool_answers(issuer: Issuer) -> None:
    headers = {"x-amz-target": "AWSCognitoIdentityService.GetCredentialsForIdentity"}
    body = {"IdentityId": "us-east-1:1111", "Credentials": {"AccessKeyId": "ASIAEXAMPLEKEY000001",
            "SecretKey": "s" * 40, "SessionToken": "t" * 200, "Expiration": T0 + 3600}}  # fmt: skip
    answer = read_answer("POST", "/", headers, b"{}", 200, json.dumps(body).encode())
    assert answer is not None
    (issued,) = answer.issued
    assert issued.kind == "aws-credentials" and issued.fingerprint == fingerprint("ASIAEXAMPLEKEY000001")
    assert issued.exp == T0 + 3600 and "s" * 40 not in repr(answer) and "t" * 200 not in repr(answer)
    openid = issuer.pool.mint_id_token()
    headers = {"x-amz-target": "AWSCognitoIdentityService.GetOpenIdToken"}
    answer = read_answer("POST", "/", headers, b"{}", 200, json.dumps({"IdentityId": "x", "Token": openid}).encode())
    assert answer is not None and answer.issued[0].fingerprint == decode_token(openid).fingerprint


def test_store_is_bounded_and_prunes_expired_lineage() -> None:
    store = Lineage(max_tokens=50, retain_after_exp=100)
    for n in range(200):
        store.record(Answer("InitiateAuth", (Issued(f"fp{n}", "id", "c", T0 + n, {}),)), n, T0)
    assert len(store) == 50 and store.lookup("fp0") is None and store.lookup("fp199") is not None
    store.record(Answer("InitiateAuth", (Issued("late", "id", "c", T0 + 9999, {}),)), 201, T0 + 1000)
    # Everything that expired more than 100 s before the newest time seen is gone.
    assert [r.fingerprint for r in store.records()] == ["late"]


def test_hostile_bodies_give_no_answer() -> None:
    headers = {"x-amz-target": IDP + "InitiateAuth"}
    for body in (b"[1]", b"{", b"x" * 70_000, b'{"AuthenticationResult": "no"}', b'{"a": 1e999}'):
        assert read_answer("POST", "/", headers, b"{}", 200, body) is None
    form_headers = {"content-type": "application/x-www-form-urlencoded"}
    many = "&".join(f"k{n}=v" for n in range(100)).encode()
    assert read_answer("POST", "/oauth2/token", form_headers, many, 200, b"{}") is None
