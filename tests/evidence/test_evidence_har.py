"""The redacted HAR: valid HAR 1.2 that mitmproxy reads back, verdicts in entry comments, a sanitized-by marker."""

from __future__ import annotations

import json

from mitmproxy import io
from mitmproxy.test import tflow

from apigw_doctor.evidence.har import make_har, verdict_comment, write_har
from tests.evidence.evidence_helpers import id_claims, make_flow, make_keys, metadata, mint, signature_of, tag_of

KEYS = make_keys()
TOKEN = mint(KEYS, id_claims())


def diagnosed_flow():
    return make_flow(headers=[("Authorization", f"Bearer {TOKEN}")], metadata=metadata(claims=id_claims()))


def test_har_is_1_2_with_comments_and_marker():
    har = make_har([diagnosed_flow(), make_flow(status=200, response_content=b"[]")])
    log = har["log"]
    assert log["version"] == "1.2"
    assert log["creator"]["name"] == "apigw-doctor"
    assert log["comment"].startswith("sanitized-by: apigw-doctor redact v2")
    assert "1 item(s) removed" in log["comment"]
    first, second = log["entries"]
    assert first["comment"].startswith("HTTP 401 token-expired: The ID token expired")
    assert "exp was 30 s before" in first["comment"]
    assert "comment" not in second  # no metadata, no verdict
    headers = {h["name"]: h["value"] for h in first["request"]["headers"]}
    assert headers["Authorization"].endswith("REDACTED-SIG-" + tag_of(signature_of(TOKEN)))
    assert signature_of(TOKEN) not in json.dumps(har)


def test_har_reads_back_into_mitmproxy(tmp_path):
    path, skipped = write_har([diagnosed_flow()], tmp_path / "out.har")
    assert skipped == []
    with path.open("rb") as fp:
        flows = list(io.FlowReader(fp).stream())
    assert len(flows) == 1
    assert flows[0].request.headers["authorization"].startswith("Bearer eyJ")
    assert flows[0].response.status_code == 401


def test_non_http_flows_are_skipped():
    har = make_har([tflow.ttcpflow(), diagnosed_flow()])
    assert len(har["log"]["entries"]) == 1


def test_verdict_comment_shapes():
    assert verdict_comment(None) == ""
    assert (
        verdict_comment({"cause": None, "warnings": ["expires-soon"]}, 200) == "HTTP 200 passed; warnings: expires-soon"
    )
    assert verdict_comment({"cause": "route-not-found", "title": "No such route."}, 403) == (
        "HTTP 403 route-not-found: No such route."
    )
    assert TOKEN not in verdict_comment({"cause": "x", "title": f"sent Bearer {TOKEN}"})
