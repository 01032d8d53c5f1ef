"""The mitmproxy glue, tested in mitmproxy's own shape (taddons + tflow)."""

from __future__ import annotations

import json
import logging

import pytest
from mitmproxy import exceptions
from mitmproxy.io import tnetstring
from mitmproxy.test import taddons

from apigw_doctor.addon import METADATA_KEY, ApiGwDoctor

from .builders import ISSUER, NOW, REST_401, REST_EXPIRED, flow, mint


def test_options_are_validated_in_configure():
    addon = ApiGwDoctor()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, apigw_user_pools=["us-east-1_AbCdEf123"], apigw_scopes=["orders/read"])
        assert addon.knowledge.expectations.issuers == (ISSUER,)
        assert addon.knowledge.expectations.scopes == ("orders/read",)
        with pytest.raises(exceptions.OptionsError, match="user pool id"):
            tctx.configure(addon, apigw_user_pools=["not a pool"])
        with pytest.raises(exceptions.OptionsError, match="apigw_authorizer=cognitoo: must be one of"):
            tctx.configure(addon, apigw_authorizer="cognitoo")
        with pytest.raises(exceptions.OptionsError, match=r"apigw_expiry_warning=-1: .*; write "):
            tctx.configure(addon, apigw_expiry_warning=-1)
        with pytest.raises(exceptions.OptionsError, match="apigw_identity_header=Bad Header"):
            tctx.configure(addon, apigw_identity_header="Bad Header")
        with pytest.raises(exceptions.OptionsError, match=r"apigw_repeat=some: .*; write summarise or all"):
            tctx.configure(addon, apigw_repeat="some")
        # a refused change is rolled back: the addon keeps working with the values it had
        assert addon.knowledge.expectations.issuers == (ISSUER,)
        assert addon.verdicts.summarise


def test_a_value_refused_while_running_is_also_logged_for_mitmwebs_event_log(caplog):
    """mitmweb's Options editor shows a refused value only as a red border; its event log shows this line."""
    addon = ApiGwDoctor()
    with taddons.context(addon) as tctx:
        addon.running()
        caplog.clear()
        with pytest.raises(exceptions.OptionsError):
            tctx.configure(addon, apigw_authorizer="cognitoo")
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [f"apigw_authorizer=cognitoo: {errors[0].split(': ', 1)[1]}"] and "; write " in errors[0]


def test_pool_arn_and_issuer_url_are_accepted():
    addon = ApiGwDoctor()
    with taddons.context(addon) as tctx:
        tctx.configure(
            addon,
            apigw_user_pools=[
                "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Zz9",
                "https://login.example.com/",
            ],
        )
        assert addon.knowledge.expectations.issuers == (
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Zz9",
            "https://login.example.com/",
        )


def test_failure_is_annotated_without_changing_traffic(caplog):
    addon = ApiGwDoctor()
    f = flow(REST_EXPIRED, request_headers={"Authorization": mint(exp=NOW - 60)})
    before = (f.request.get_state(), f.response.get_state())
    caplog.set_level(logging.INFO)
    with taddons.context(addon):
        addon.response(f)
    assert (f.request.get_state(), f.response.get_state()) == before
    meta = f.metadata[METADATA_KEY]
    assert meta["cause"] == "token-expired" and meta["confidence"] == "high"
    assert not f.marked  # the user's marks are the user's: @marked means what they picked
    assert f.comment.splitlines()[0] == "token-expired [H] The token has expired."
    assert set(meta) == {
        "cause",
        "confidence",
        "title",
        "summary",
        "evidence",
        "fix",
        "checks",
        "target",
        "token",
        "warnings",
        "alternatives",
    }
    assert meta["alternatives"] == []  # the gateway's own text named the cause
    assert meta["target"] == {"surface": "rest", "api_id": "abc123defg", "region": "us-east-1", "stage": "prod"}
    json.dumps(meta)
    tnetstring.dumps(meta)  # flow files must be able to hold it
    assert "401 GET /prod/items  token-expired (high)" in caplog.text


def test_the_token_signature_never_reaches_metadata_comment_or_log(caplog):
    addon = ApiGwDoctor()
    token = mint(exp=NOW - 60)
    f = flow(REST_401, request_headers={"Authorization": "Bearer " + token})
    caplog.set_level(logging.DEBUG)
    with taddons.context(addon):
        addon.response(f)
    signature = token.rsplit(".", 1)[1]
    for artefact in (json.dumps(f.metadata[METADATA_KEY]), f.comment, caplog.text):
        assert signature not in artefact
        assert token not in artefact


def test_success_gets_no_annotation_and_teaches_the_baseline():
    addon = ApiGwDoctor()
    f = flow((200, {}, b"{}"), request_headers={"Authorization": mint()})
    with taddons.context(addon):
        addon.response(f)
    assert METADATA_KEY not in f.metadata and not f.marked and not f.comment
    assert addon.knowledge.baseline.api("abc123defg.execute-api.us-east-1.amazonaws.com/prod").successes == 1
    route = addon.knowledge.baseline.route("abc123defg.execute-api.us-east-1.amazonaws.com/prod GET /prod/items")
    assert route.token_uses == {"id"} and route.credential_kinds == {"jwt"}


def test_warning_only_flow_gets_the_warning_comment_and_no_marker():
    addon = ApiGwDoctor()
    f = flow((200, {}, b"{}"), request_headers={"Authorization": mint(exp=NOW + 30)})
    with taddons.context(addon):
        addon.response(f)
    assert not f.marked and f.comment.startswith("warning: expires-soon.")
    assert f.metadata[METADATA_KEY]["cause"] is None
    assert f.metadata[METADATA_KEY]["warnings"] == ["expires-soon"]


def test_an_existing_comment_is_kept_and_reanalysis_does_not_duplicate():
    addon = ApiGwDoctor()
    f = flow(REST_401)
    f.comment = "seen by QA"
    with taddons.context(addon):
        addon.response(f)
        addon.response(f)
    assert f.comment.startswith("seen by QA\n\nmissing-credential [H] ")
    assert f.comment.count("missing-credential [H]") == 1


def test_a_verdict_from_an_earlier_version_is_replaced_and_its_marker_dropped():
    addon = ApiGwDoctor()
    f = flow(REST_401)
    f.comment = "seen by QA\n\nmissing-credential (high): No credential was sent\n\nFix:\n- send one"
    f.marked = ":no_entry:"
    f.metadata[METADATA_KEY] = {"cause": "missing-credential", "confidence": "high", "warnings": []}
    with taddons.context(addon):
        addon.response(f)
    assert f.comment.startswith("seen by QA\n\nmissing-credential [H] ") and "(high):" not in f.comment
    assert not f.marked


def test_a_users_own_marker_is_kept():
    addon = ApiGwDoctor()
    f = flow(REST_401)
    f.marked = ":star:"
    with taddons.context(addon):
        addon.response(f)
    assert f.marked == ":star:"


def test_the_comment_reads_as_one_paragraph_where_line_breaks_collapse():
    """mitmweb's Comment tab collapses line breaks: each line must end as a sentence, and the head stay short."""
    addon = ApiGwDoctor()
    f = flow(REST_EXPIRED, request_headers={"Authorization": mint(exp=NOW - 60)})
    with taddons.context(addon):
        addon.response(f)
    lines = f.comment.splitlines()
    assert all(line[-1] in ".!?:)" for line in lines), lines
    assert len(lines[0].split(" The ")[0]) <= 20  # "token-expired [H]" fits mitmweb's 150 px comment column
    assert lines[2].startswith("Fix: (1) ")


def test_unwatched_hosts_are_untouched():
    addon = ApiGwDoctor()
    f = flow(REST_401, host="api.example.com")
    with taddons.context(addon):
        addon.response(f)
    assert not f.metadata and not f.comment and not f.marked


def test_custom_domain_from_option():
    addon = ApiGwDoctor()
    f = flow(REST_401, host="api.example.com")
    with taddons.context(addon) as tctx:
        tctx.configure(addon, apigw_hosts=["*.example.com"])
        addon.response(f)
    assert f.metadata[METADATA_KEY]["cause"] == "missing-credential"
    assert f.metadata[METADATA_KEY]["target"]["surface"] == "custom"


def test_start_up_line_says_what_is_watched_and_what_was_set(caplog):
    addon = ApiGwDoctor()
    caplog.set_level(logging.INFO)
    with taddons.context(addon) as tctx:
        tctx.configure(addon, apigw_hosts=["api.example.com"], apigw_scopes=["orders/read"])
        addon.running()
    assert "watching API Gateway, Lambda function URLs and Cognito, plus api.example.com; scopes: orders/read" in (
        caplog.text
    )
