"""Containment, live: with the engine broken on purpose, real mitmdump still forwards every exchange unchanged.

`break_engine.py` (a tests-only `-s` script) replaces the engine entry point the addon calls with one that
raises. The client must get exactly what the upstream sent, the upstream exactly what the client sent, the flow
file must hold no verdict, and the terminal must show the failure once.
"""

from __future__ import annotations

import time

import pytest

from apigw_doctor.sandbox import responses, tls
from tests.e2e.e2e_capture import UNAUTHORIZED
from tests.e2e.e2e_harness import (
    ADDON_SCRIPT,
    BREAK_ENGINE_SCRIPT,
    REST_HOST,
    LiveMitmdump,
    TokenMinter,
    Upstream,
    read_flows,
)


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("e2e-broken-engine")
    upstream = Upstream(tls.make_certs(workdir / "upstream-tls")).start()
    proxy = LiveMitmdump(workdir, upstream, scripts=(ADDON_SCRIPT, BREAK_ENGINE_SCRIPT))
    token = TokenMinter().id_token(exp=int(time.time()) - 600)
    sent = [
        ("GET", "/prod/items", f"Bearer {token}", lambda t, h: responses.rest_token_expired(t)),
        ("GET", "/prod/items", None, lambda t, h: responses.rest_unauthorized(t)),
        ("POST", "/prod/orders", f"Bearer {token}", lambda t, h: responses.rest_ok(t, {"id": 7})),
    ]
    for method, path, _, reply in sent:
        upstream.route(REST_HOST, method, path, reply)
    try:
        proxy.start()
        with proxy.client() as client:
            got = [
                client.request(
                    method,
                    f"https://{REST_HOST}{path}",
                    content=b'{"n":1}' if method == "POST" else None,
                    headers={"Authorization": auth, "X-Trace": "e2e"} if auth else {"X-Trace": "e2e"},
                )
                for method, path, auth, _ in sent
            ]
    finally:
        proxy.stop()
        upstream.stop()
    return proxy, upstream, sent, got, read_flows(proxy.flows_file)


def test_client_gets_the_upstream_reply_unchanged(broken_run):
    proxy, upstream, _, got, _ = broken_run
    assert proxy.returncode == 0
    assert len(upstream.exchanges) == len(got)
    for exchange, response in zip(upstream.exchanges, got, strict=True):
        assert response.status_code == exchange.status
        assert response.content == exchange.response_body
        assert [(k.lower(), v) for k, v in response.headers.multi_items()] == [
            (k.lower(), v) for k, v in exchange.response_headers
        ]
    assert got[1].content == UNAUTHORIZED


def test_upstream_gets_the_client_request_unchanged(broken_run):
    _, upstream, sent, _, _ = broken_run
    for (method, path, auth, _), exchange in zip(sent, upstream.exchanges, strict=True):
        headers = dict((k.lower(), v) for k, v in exchange.request_headers)
        assert (exchange.method, exchange.path) == (method, path)
        assert headers.get("authorization") == auth
        assert headers["x-trace"] == "e2e"
        assert exchange.request_body == (b'{"n":1}' if method == "POST" else b"")


def test_recorded_flows_carry_no_verdict(broken_run):
    *_, flows = broken_run
    assert len(flows) == 3
    for flow in flows:
        assert "apigw_doctor" not in flow.metadata
        assert flow.comment == ""
        assert flow.marked == ""
        assert flow.error is None


def test_failure_is_reported_once_and_names_no_secret(broken_run):
    proxy, _, sent, _, _ = broken_run
    failures = [line for line in proxy.lines if "could not diagnose" in line]
    assert len(failures) == 1, proxy.stdout  # two failing flows, the same failure kind: one line at ERROR
    assert "engine broken on purpose" in failures[0]
    assert "Addon error" not in proxy.stdout  # contained by the addon, not by mitmproxy's last-resort handler
    token = sent[0][2].split(" ", 1)[1]
    assert token.rsplit(".", 1)[1] not in proxy.stdout
