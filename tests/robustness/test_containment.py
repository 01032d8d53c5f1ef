"""Containment (docs/design.md: "A failure inside the addon is logged once and the flow goes on untouched").

Written in mitmproxy's own addon-test style: `taddons.context` + `tflow`, a direct hook call, then assertions on
the flow and on the log records.
"""

from __future__ import annotations

import logging

import pytest
from mitmproxy.net.http.http1 import assemble
from mitmproxy.test import taddons

import apigw_doctor.addon
import apigw_doctor.baseline
import apigw_doctor.verdict_log
from apigw_doctor.addon import ApiGwDoctor
from tests.robustness.robust_flows import flow, unsigned_jwt

LOGGER = "apigw_doctor.addon"
TOKEN = unsigned_jwt({"token_use": "id", "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc", "exp": 1})


class EngineBroke(Exception):
    pass


def _boom(*args, **kwargs):
    raise EngineBroke("raised inside the engine on purpose")


def _failing_flow():
    return flow(request_headers=[(b"authorization", f"Bearer {TOKEN}".encode())])


def _snapshot(f):
    return f.get_state(), assemble.assemble_request(f.request), assemble.assemble_response(f.response)


def _records(caplog, level=None):
    return [r for r in caplog.records if r.name == LOGGER and (level is None or r.levelno == level)]


@pytest.fixture
def addon():
    a = ApiGwDoctor()
    with taddons.context(a) as tctx:
        tctx.configure(a)
        yield a


def test_engine_exception_leaves_the_flow_untouched(addon, monkeypatch):
    monkeypatch.setattr(apigw_doctor.addon, "observe_flow", _boom)
    f = _failing_flow()
    before = _snapshot(f)
    addon.response(f)  # must not raise
    assert _snapshot(f) == before  # same request/response bytes, same state
    assert f.comment == ""
    assert f.marked == ""
    assert "apigw_doctor" not in f.metadata


def test_engine_exception_logs_exactly_one_line(addon, monkeypatch, caplog):
    monkeypatch.setattr(apigw_doctor.addon, "observe_flow", _boom)
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    addon.response(_failing_flow())
    records = _records(caplog)
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    message = records[0].getMessage()
    assert "\n" not in message
    assert "EngineBroke" in message
    assert "/prod/items" in message
    assert TOKEN.rsplit(".", 1)[1] not in message


def test_same_failure_again_is_not_logged_at_error(addon, monkeypatch, caplog):
    monkeypatch.setattr(apigw_doctor.addon, "observe_flow", _boom)
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    first, second = _failing_flow(), _failing_flow()
    addon.response(first)
    before = _snapshot(second)
    addon.response(second)
    assert len(_records(caplog, logging.ERROR)) == 1
    assert _snapshot(second) == before


def test_exception_while_learning_from_a_success_is_contained(addon, monkeypatch, caplog):
    monkeypatch.setattr(apigw_doctor.baseline.Baseline, "learn", _boom)
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    f = flow(
        status=200,
        request_headers=[(b"authorization", f"Bearer {TOKEN}".encode())],
        response_headers=[(b"date", b"Thu, 26 Nov 2026 22:40:00 GMT")],
        response_body=b"{}",
    )
    before = _snapshot(f)
    addon.response(f)
    assert _snapshot(f) == before
    assert len(_records(caplog, logging.ERROR)) == 1


def test_exception_while_writing_the_comment_leaves_no_partial_annotation(addon, monkeypatch):
    monkeypatch.setattr(apigw_doctor.addon, "comment", _boom)
    f = _failing_flow()
    before = _snapshot(f)
    addon.response(f)
    assert _snapshot(f) == before


def test_exception_while_rendering_the_terminal_verdict_is_contained(addon, monkeypatch, caplog):
    """The verdict text is drawn when a log handler formats it, outside the hook: it must not raise there either."""
    monkeypatch.setattr(apigw_doctor.verdict_log, "render_text", _boom)
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    f = _failing_flow()
    addon.response(f)  # must not raise
    (record,) = _records(caplog, logging.WARNING)
    assert "verdict text failed: EngineBroke" in record.getMessage()  # a one-line stand-in, no traceback
    assert f.metadata["apigw_doctor"]["cause"]  # the flow is annotated all the same


def test_hostile_claim_text_does_not_break_the_hook(addon):
    """Token claims are attacker/user-controlled text; rich must not parse them as console markup."""
    token = unsigned_jwt({"token_use": "id", "iss": "[/oops]", "exp": 1, "cognito:username": "[bold]x[/]"})
    f = flow(request_headers=[(b"authorization", f"Bearer {token}".encode())])
    addon.response(f)  # must not raise
    meta = f.metadata["apigw_doctor"]
    # A generic 401 with a non-Cognito issuer: the issuer leads, expiry is listed second (issue 7, section 2).
    assert meta["cause"] == "wrong-issuer"
    assert any(c["id"] == "token.exp" and c["result"] == "fail" for c in meta["checks"])
    assert f.comment.startswith("wrong-issuer [")


def test_flow_without_response_is_left_alone(addon):
    f = _failing_flow()
    f.response = None
    state = f.get_state()
    addon.response(f)
    assert f.get_state() == state
