"""The whole conversation through a real mitmdump: token lineage, the verdicts that need it, the burst summary,
and the HTML timeline `analyze --html` writes from the recorded capture.

The capture is recorded here, from the sandbox (`sandbox/story.py`): a sign-in, calls, a refresh, stale calls,
a cached-policy denial, a sign-out, calls after it, and a route that disappears. Step N is flow #N.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from apigw_doctor.causes import CATALOGUE
from apigw_doctor.tokens import decode_token
from tests.e2e.e2e_harness import REPO, mitmdump_env
from tests.e2e.lineage_capture import Conversation, record_story

APIGW_DOCTOR = Path(sys.executable).with_name("apigw-doctor")


@pytest.fixture(scope="module")
def conversation(tmp_path_factory: pytest.TempPathFactory) -> Conversation:
    return record_story(tmp_path_factory.mktemp("lineage"))


def test_the_sandbox_answered_each_step_as_planned(conversation: Conversation) -> None:
    statuses = [(s.name, s.status) for s in conversation.steps]
    assert statuses[0] == ("sign-in", 200) and ("stale call", 401) in statuses
    assert ("cached policy denies", 403) in statuses and ("revoked token accepted", 200) in statuses
    assert len(conversation.flows) == len(conversation.steps)
    for step, flow in zip(conversation.steps, conversation.flows, strict=True):
        assert flow.response.status_code == step.status and flow.request.method == step.method


def test_each_step_gets_its_cause_or_warning(conversation: Conversation) -> None:
    for step in conversation.steps:
        meta = conversation.meta(step.number)
        if step.expect == "stage-not-deployed":
            continue  # its own test below
        if step.expect is None:
            assert not meta.get("cause"), (step, meta.get("cause"))
        elif step.expect in CATALOGUE and step.status >= 400:
            assert meta["cause"] == step.expect, (step, meta.get("cause"), meta.get("summary"))
        else:
            assert meta["cause"] is None and step.expect in meta["warnings"], (step, meta)


def test_a_route_that_worked_earlier_and_now_is_missing_is_not_deployed(conversation: Conversation) -> None:
    last = conversation.steps[-1]
    meta = conversation.meta(last.number)
    assert last.expect == "stage-not-deployed" and last.status == 403
    assert meta["cause"] == "stage-not-deployed" and meta["confidence"] == "medium"
    assert "succeeded 4 time(s) earlier" in meta["summary"]


def test_lineage_links_each_token_to_the_flow_that_issued_replaced_or_revoked_it(conversation: Conversation) -> None:
    signin = json.loads(conversation.flows[0].response.content)["AuthenticationResult"]
    refresh = json.loads(conversation.flows[3].response.content)["AuthenticationResult"]
    stale = conversation.meta(6)["lineage"]
    assert stale["fingerprint"] == decode_token(signin["IdToken"]).fingerprint
    assert stale["kind"] == "id" and stale["flow"] == 6
    assert stale["issued"]["flow"] == 1 and stale["issued"]["operation"] == "InitiateAuth"
    assert stale["replaced_by"]["flow"] == 4 and stale["replaced_by"]["operation"] == "InitiateAuth REFRESH_TOKEN_AUTH"
    assert stale["replaced_by_token"] == decode_token(refresh["IdToken"]).fingerprint
    assert stale["client"] == conversation.meta(6)["token"]["claims"]["aud"]
    accepted = conversation.meta(14)["lineage"]
    assert accepted["issued"]["flow"] == 4 and accepted["revoked"]["flow"] == 13
    assert accepted["revoked"]["operation"] == "GlobalSignOut"


def test_verdicts_name_the_flows_that_explain_them(conversation: Conversation) -> None:
    stale = conversation.meta(6)
    assert "InitiateAuth in flow #1" in stale["summary"] and "flow #4 " in stale["summary"]
    assert any("closure" in line or "interceptor" in line for line in stale["fix"])
    assert "GlobalSignOut in flow #13" in conversation.meta(15)["summary"]  # the access token
    assert "GlobalSignOut in flow #13" in conversation.meta(16)["summary"]  # the refresh token
    cached = conversation.meta(12)
    assert "flow #11" in cached["summary"] and cached["confidence"] == "medium"
    assert "arn:aws:execute-api:us-east-1:<account>:abc123defg/prod/GET/cached/items" in cached["summary"]
    accepted = conversation.meta(14)
    assert any("verify signature and expiry only" in line for line in accepted["evidence"])


def test_the_burst_summary_tells_the_story_once(conversation: Conversation) -> None:
    fp = conversation.meta(6)["lineage"]["fingerprint"]
    lines = [line for line in conversation.stdout.splitlines() if "calls failed" in line]
    assert len(lines) == 1, lines
    assert f"4 calls failed (stale-token-after-refresh) with the ID token {fp} issued in flow #1" in lines[0]
    assert "the refresh in flow #4 had replaced it" in lines[0]


def test_no_token_is_kept_in_metadata(conversation: Conversation) -> None:
    text = json.dumps([f.metadata for f in conversation.flows])
    for secret in conversation.secrets:
        assert secret.split(".")[-1] not in text


def test_analyze_html_draws_the_timeline_without_secrets(conversation: Conversation, tmp_path: Path) -> None:
    out = tmp_path / "timeline.html"
    run = subprocess.run(
        [str(APIGW_DOCTOR), "analyze", str(conversation.flows_file), "--html", str(out)],
        cwd=REPO, env=mitmdump_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert f"timeline: {out}" in run.stderr
    html = out.read_text(encoding="utf-8")
    assert html.count('class="lane"') >= 4  # the sign-in's ID and access tokens, the refreshed ones
    for code in ("stale-token-after-refresh", "authorizer-cached-policy", "cognito-token-revoked"):
        assert f'data-cause="{code}"' in html
    assert 'id="flow-6"' in html and "<script" not in html and "http://" not in html.replace("http://www.w3", "")
    for secret in conversation.secrets:
        assert secret.split(".")[-1] not in html and secret not in html


def test_a_bundle_keeps_the_lineage_with_its_own_tags(conversation: Conversation, tmp_path: Path) -> None:
    from apigw_doctor.evidence.bundle import write_bundle

    stale = conversation.flows[5]
    path = write_bundle(stale, tmp_path)
    report = json.loads((path / "report.json").read_text())["diagnosis"]
    engine_fp = conversation.meta(6)["lineage"]["fingerprint"]
    # The export's tag for the token, the same in its token summary and its lineage; never the engine's own tag.
    assert report["lineage"]["fingerprint"] == report["token"]["fingerprint"] != engine_fp
    assert report["lineage"]["issued"]["flow"] == 1 and report["lineage"]["replaced_by"]["flow"] == 4
    html = (path / "report.html").read_text()
    assert f'data-fingerprint="{report["token"]["fingerprint"]}"' in html and 'data-flow="6"' in html
    assert "InitiateAuth #1" in html and 'data-cause="stale-token-after-refresh"' in html
