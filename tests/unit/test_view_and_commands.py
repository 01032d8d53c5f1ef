"""The mitmweb experience: the `apigw` content view and the command-bar commands."""

from __future__ import annotations

from mitmproxy import contentviews
from mitmproxy.addons import view
from mitmproxy.test import taddons

from apigw_doctor.addon import ApiGwDoctor, DoctorCommands
from apigw_doctor.view import ApiGwContentview

from .builders import NOW, REST_401, REST_EXPIRED, flow, mint


def test_view_shows_the_decoded_token_with_readable_times_and_the_check_chain():
    doctor = ApiGwDoctor()
    token = mint(exp=NOW - 192)
    f = flow(REST_EXPIRED, request_headers={"Authorization": token})
    with taddons.context(doctor):
        doctor.response(f)
    cv = ApiGwContentview(lambda: doctor.knowledge)
    meta = contentviews.Metadata(flow=f, http_message=f.request)
    assert cv.render_priority(b"", meta) > 1  # beats Raw/Query for a body-less request with a token
    text = cv.prettify(b"", meta)
    assert "verdict: token-expired (high)" in text
    assert "expired 3 min 12 s ago" in text
    assert "token_use: id" in text
    assert "- token.exp: FAIL" in text
    assert token.rsplit(".", 1)[1] not in text


def test_the_response_has_the_apigw_view_too_with_its_body_below_the_verdict():
    """The user looks at the 401 body: the verdict is offered first beside it."""
    doctor = ApiGwDoctor()
    token = mint(exp=NOW - 192)
    f = flow(REST_EXPIRED, request_headers={"Authorization": token})
    ok = flow((200, {}, b'{"items":[]}'), request_headers={"Authorization": mint()})
    with taddons.context(doctor):
        doctor.response(f)
        doctor.response(ok)
    cv = ApiGwContentview(lambda: doctor.knowledge)
    meta = contentviews.Metadata(flow=f, http_message=f.response)
    assert cv.render_priority(f.response.content, meta) > 1  # beats the JSON view of the body
    text = cv.prettify(f.response.content, meta)
    assert text.startswith("verdict: token-expired (high)")
    assert text.endswith('response body: |\n  {"message":"The incoming token has expired"}')
    assert token.rsplit(".", 1)[1] not in text
    assert cv.render_priority(ok.response.content, contentviews.Metadata(flow=ok, http_message=ok.response)) < 0


def test_view_is_not_offered_for_unwatched_hosts_or_bodies():
    doctor = ApiGwDoctor()
    cv = ApiGwContentview(lambda: doctor.knowledge)
    f = flow(REST_401, host="example.com", request_headers={"Authorization": mint()})
    assert cv.render_priority(b"", contentviews.Metadata(flow=f, http_message=f.request)) < 0
    f = flow(REST_401, request_headers={"Authorization": mint()}, request_body=b'{"a":1}')
    assert cv.render_priority(b'{"a":1}', contentviews.Metadata(flow=f, http_message=f.request)) < 0


def test_view_before_any_response_still_decodes_the_token():
    doctor = ApiGwDoctor()
    f = flow(None, request_headers={"Authorization": "Bearer " + mint(use="access")})
    text = ApiGwContentview(lambda: doctor.knowledge).prettify(
        b"", contentviews.Metadata(flow=f, http_message=f.request)
    )
    assert "token_use: access" in text and "verdict" not in text


def test_commands_from_the_command_bar():
    doctor = ApiGwDoctor()
    commands = DoctorCommands(doctor)
    v = view.View()
    with taddons.context(v, doctor, commands) as tctx:
        flows = [
            flow(REST_401),
            flow(REST_EXPIRED, request_headers={"Authorization": mint(exp=NOW - 5)}),
            flow(REST_401, request_headers={"Authorization": mint(use="access")}),
        ]
        v.add(flows)
        assert tctx.master.commands.execute("apigw.summary @all") == "no apigw-doctor verdicts among these flows"
        assert tctx.master.commands.execute("apigw.reanalyze @all") == 3
        summary = tctx.master.commands.execute("apigw.summary @all")
        assert "missing-credential: 1" in summary and "token-expired: 1" in summary
        tctx.configure(doctor, apigw_user_pools=["us-east-1_AbCdEf123"])  # now the method is known to have no scopes
        tctx.master.commands.execute("apigw.reanalyze @all")
        assert flows[2].metadata["apigw_doctor"]["confidence"] == "high"
        explained = tctx.master.commands.execute("apigw.explain @all")
        assert "GET /prod/items: token-expired [H] The token has expired." in explained
        assert "\n" not in explained  # mitmweb shows command output as one quoted string


def test_view_and_verdict_agree_on_a_token_in_a_cognito_request_body():
    """GetUser carries the access token in its JSON body: the view must show it, never "credential: missing"."""
    from .test_cognito_causes import idp

    doctor = ApiGwDoctor()
    token = mint(use="access", exp=NOW - 90)
    f = idp("NotAuthorizedException", "Access Token has expired", "GetUser", {"AccessToken": token})
    with taddons.context(doctor):
        doctor.response(f)
    assert f.metadata["apigw_doctor"]["cause"] == "cognito-token-expired"
    cv = ApiGwContentview(lambda: doctor.knowledge)
    text = cv.prettify(b"", contentviews.Metadata(flow=f, http_message=f.request))
    assert "credential: missing" not in text
    assert "credential: jwt  # in body:AccessToken" in text
    assert "token_use: access" in text
    assert "expired 1 min 30 s ago" in text  # judged by the gateway's Date, as the verdict is
    assert token.rsplit(".", 1)[1] not in text


def test_view_names_an_unwatched_host_instead_of_guessing():
    doctor = ApiGwDoctor()
    f = flow(REST_401, host="example.com", request_headers={"Authorization": mint()})
    text = ApiGwContentview(lambda: doctor.knowledge).prettify(
        b"", contentviews.Metadata(flow=f, http_message=f.request)
    )
    assert "not a watched API" in text and "token_use" not in text


def test_view_shows_the_alternatives_of_an_ambiguous_answer():
    from .builders import MISSING_EQUAL_SIGN_NEW

    doctor = ApiGwDoctor()
    f = flow(MISSING_EQUAL_SIGN_NEW, path="/prod/nope", request_headers={"Authorization": "Bearer " + mint()})
    with taddons.context(doctor):
        doctor.response(f)
    text = ApiGwContentview(lambda: doctor.knowledge).prettify(
        b"", contentviews.Metadata(flow=f, http_message=f.request)
    )
    assert "verdict: sigv4-expected (medium)" in text
    assert "also possible:" in text and "  - route-not-found (medium)  # tell apart by" in text
