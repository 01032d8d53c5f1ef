"""The conversation through the addon: a sign-in and a refresh seen by the proxy, then later calls; the burst
summary in the terminal and `apigw.summary`; `apigw.report`; and the verdicts that history must not invent."""

from __future__ import annotations

import json
import logging

from mitmproxy.addons import view
from mitmproxy.test import taddons

from apigw_doctor import conversation
from apigw_doctor.addon import ApiGwDoctor, DoctorCommands
from apigw_doctor.engine import observe_flow
from apigw_doctor.knowledge import Knowledge
from apigw_doctor.tokens import decode_token

from .builders import NOW, REST_EXPIRED, flow, mint

IDP_HOST = "cognito-idp.us-east-1.amazonaws.com"
OK = (200, {}, b'{"ok":true}')
DENIED = (403, {"x-amzn-ErrorType": "AccessDeniedException"},
          b'{"Message":"User is not authorized to access this resource"}')  # fmt: skip
EXPLICIT = (403, {"x-amzn-ErrorType": "AccessDeniedException"},
            b'{"Message":"User is not authorized to access this resource with an explicit deny"}')  # fmt: skip


def _auth(id_token: str, access: str, at: float, refresh: str | None = None, presented: str | None = None):
    result = {"IdToken": id_token, "AccessToken": access, "ExpiresIn": 3600, "TokenType": "Bearer"}
    if refresh:
        result["RefreshToken"] = refresh
    body = {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": "client"}
    if presented:
        body = {"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": "client", "AuthParameters": {"REFRESH_TOKEN": presented}}
    return flow(
        (200, {"content-type": "application/x-amz-json-1.1"}, json.dumps({"AuthenticationResult": result}).encode()),
        host=IDP_HOST, path="/", method="POST", request_body=json.dumps(body).encode(),
        request_headers={"X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
                         "Content-Type": "application/x-amz-json-1.1"},
        date=at, sent_at=at,
    )  # fmt: skip


REFRESH = "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.a.b.c.d"


def _signed_in_then_refreshed():
    old_id = mint(exp=NOW - 60, iat=NOW - 3660, jti="old")
    old_access = mint(use="access", exp=NOW - 60, iat=NOW - 3660, jti="old-a")
    new_id = mint(exp=NOW + 3540, iat=NOW - 60, jti="new")
    new_access = mint(use="access", exp=NOW + 3540, iat=NOW - 60, jti="new-a")
    flows = [
        _auth(old_id, old_access, NOW - 3660, refresh=REFRESH),
        _auth(new_id, new_access, NOW - 120, presented=REFRESH),
    ]
    return old_id, new_id, flows


def test_burst_summary_in_the_terminal_and_in_apigw_summary(caplog):
    old_id, _, flows = _signed_in_then_refreshed()
    flows += [flow(REST_EXPIRED, request_headers={"Authorization": old_id}) for _ in range(5)]
    doctor = ApiGwDoctor()
    v = view.View()
    with caplog.at_level(logging.INFO), taddons.context(doctor, DoctorCommands(doctor), v) as tctx:
        for f in flows:
            doctor.response(f)
        v.add(flows)
        summary = tctx.master.commands.execute("apigw.summary @all")
        doctor.done()
    fp = decode_token(old_id).fingerprint
    story = f"5 calls failed (stale-token-after-refresh) with the ID token {fp} issued in flow #1"
    assert summary.splitlines()[0] == "stale-token-after-refresh: 5"
    assert story in summary and "the refresh in flow #2 was never used" in summary
    told = [r.getMessage() for r in caplog.records if "calls failed" in r.getMessage()]
    assert len(told) == 1 and story in told[0]


def test_no_story_below_the_burst_and_the_story_book_is_bounded():
    book = conversation.Stories()
    meta = {"cause": "token-expired", "lineage": {"fingerprint": "a", "issued": {"flow": 1}}}
    for _ in range(conversation.BURST - 1):
        book.add(meta)
    assert book.lines() == []
    book.add(meta)
    assert len(book.lines()) == 1
    for n in range(conversation._MAX_STORIES * 2):
        book.add({"cause": "token-expired", "lineage": {"fingerprint": f"fp{n}", "issued": {"flow": n}}})
    assert len(book._counts) == conversation._MAX_STORIES and len(book._linked) <= conversation._MAX_STORIES


def test_apigw_report_writes_the_timeline(tmp_path):
    old_id, _, flows = _signed_in_then_refreshed()
    flows.append(flow(REST_EXPIRED, request_headers={"Authorization": old_id}))
    doctor = ApiGwDoctor()
    v = view.View()
    out = tmp_path / "t" / "report.html"
    with taddons.context(doctor, DoctorCommands(doctor), v) as tctx:
        for f in flows:
            doctor.response(f)
        v.add(flows)
        written = tctx.master.commands.execute(f"apigw.report @all {out}")
    assert written == str(out)
    html = out.read_text()
    assert 'data-cause="stale-token-after-refresh"' in html and html.count('class="lane"') >= 3
    assert old_id.rsplit(".", 1)[1] not in html and "<script" not in html


def test_a_refresh_with_a_fresh_token_is_no_story():
    _, new_id, flows = _signed_in_then_refreshed()
    knowledge = Knowledge()
    for f in flows:
        observe_flow(f, knowledge)
    assert observe_flow(flow(OK, request_headers={"Authorization": new_id}), knowledge) is None  # the fast path


def test_cached_policy_needs_an_implicit_deny_within_the_ttl_on_another_method():
    token = mint()
    knowledge = Knowledge()
    observe_flow(flow(OK, path="/prod/a", request_headers={"Authorization": token}), knowledge)
    cached = observe_flow(flow(DENIED, path="/prod/b", request_headers={"Authorization": token}), knowledge)
    assert cached is not None and cached.cause == "authorizer-cached-policy" and cached.confidence == "medium"
    assert "abc123defg/prod/GET/a" in cached.summary and "flow #1" in cached.summary

    for deny, path, later in ((EXPLICIT, "/prod/b", 10), (DENIED, "/prod/a", 10), (DENIED, "/prod/b", 301)):
        knowledge = Knowledge()
        observe_flow(flow(OK, path="/prod/a", request_headers={"Authorization": token}), knowledge)
        other = flow(deny, path=path, request_headers={"Authorization": token}, date=NOW + later, sent_at=NOW + later)
        verdict = observe_flow(other, knowledge)
        assert verdict is not None and verdict.cause == "authorizer-denied", (deny, path, later)


def test_lineage_is_bounded_over_many_sign_ins():
    knowledge = Knowledge()
    knowledge.lineage.max_tokens = 64
    for n in range(100):
        observe_flow(_auth(mint(jti=f"i{n}"), mint(use="access", jti=f"a{n}"), NOW, refresh=f"{REFRESH}{n}"), knowledge)
    assert len(knowledge.lineage) == 64
