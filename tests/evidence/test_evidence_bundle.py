"""Bundle layout: directory naming, never overwriting, report.md sections, report.json shape, the many-flows index."""

from __future__ import annotations

import json
import re

from mitmproxy import io
from mitmproxy.test import tflow

from apigw_doctor.evidence.aws_hints import REST_ACCESS_LOG_FORMAT
from apigw_doctor.evidence.bundle import BODY_LIMIT, build_bundle, bundle_name, write_bundle, write_bundles
from apigw_doctor.model import Finding
from tests.evidence.evidence_helpers import NOW, access_claims, id_claims, make_flow, make_keys, metadata, mint

KEYS = make_keys()
TOKEN = mint(KEYS, id_claims())
REQUEST_ID = "0b6c4d2e-8f5b-4a3c-9e1d-7f2a6b5c4d3e"


def diagnosed(**kw):
    kw.setdefault("metadata", metadata(claims=id_claims()))
    kw.setdefault("headers", [("Authorization", f"Bearer {TOKEN}")])
    kw.setdefault("response_headers", [("x-amzn-RequestId", REQUEST_ID), ("x-amzn-ErrorType", "UnauthorizedException")])
    return make_flow(**kw)


def test_bundle_name():
    f = diagnosed()
    assert re.fullmatch(r"20260921T141320Z-401-token-expired-[0-9a-f]{8}", bundle_name(f))
    assert bundle_name(f).endswith(f.id[:8])
    f = make_flow(status=None, metadata=metadata(cause=None, warnings=("expires-soon",)))
    assert "-error-warnings-" in bundle_name(f)


def test_write_bundle_files_and_never_overwrite(tmp_path):
    f = diagnosed()
    first = write_bundle(f, tmp_path / "ev")
    second = write_bundle(f, tmp_path / "ev")
    assert first != second and second.name == first.name + "-2"
    for path in (first, second):
        assert sorted(p.name for p in path.iterdir()) == ["flows.har", "report.html", "report.json", "report.md"]
    with (first / "flows.har").open("rb") as fp:
        assert len(list(io.FlowReader(fp).stream())) == 1


def test_report_markdown_sections():
    md = build_bundle(diagnosed()).markdown
    assert md.startswith("# The ID token expired before API Gateway checked it\n")
    assert "**HTTP 401**" in md and "cause `token-expired` (confidence high)" in md
    for heading in (
        "## Fix",
        "## Evidence",
        "## Timeline (UTC)",
        "## Target",
        "## Token (decoded; signature removed)",
        "## Check chain",
        "## AWS request ids",
        "## Server-side logs",
        "## Commands",
        "## Request (redacted)",
        "## Response (redacted)",
    ):
        assert heading in md, heading
    assert "1. Refresh the token before exp." in md
    assert "| token exp | 2026-09-21T14:12:50Z | 30 s before |" in md
    assert "| gateway Date header | 2026-09-21T14:13:20Z |" in md
    assert "| token iat | 2026-09-21T13:13:20Z | 1 h before |" in md
    assert "| token auth_time |" in md
    assert f"| x-amzn-requestid | `{REQUEST_ID}` |" in md
    assert f'@message like "{REQUEST_ID}"' in md
    assert "API-Gateway-Execution-Logs_abc123defg/prod" in md
    assert '"authorizeError": "$context.authorize.error"' in md
    assert '"wafResponseCode": "$context.wafResponseCode"' in md
    assert "aws apigateway get-authorizers --rest-api-id abc123defg --region eu-west-1" in md
    assert "aws cognito-idp describe-user-pool-client --user-pool-id eu-west-1_AbCdEf123" in md
    assert '"email": "alice@example.com"' in md
    assert "x-amzn-ErrorType: UnauthorizedException" in md
    assert "\n---\n\nsanitized-by: apigw-doctor redact v2" in md
    assert "- request.header.Authorization: JWT signature removed" in md


def test_check_table_escapes_pipes():
    md = build_bundle(diagnosed()).markdown
    assert "| 3 | scope | skip |  |  | no scopes required \\| none sent |" in md


def test_clock_offset_against_the_gateway():
    f = diagnosed(gateway_date=NOW - 42)  # the gateway's clock reads 42 s earlier than ours
    b = build_bundle(f)
    assert "your clock was 42 s ahead of the gateway's" in b.markdown
    assert b.report["timeline"]["local_clock_offset_seconds"] == 42.05
    assert b.report["timeline"]["now"]["source"] == "gateway Date"
    b = build_bundle(diagnosed(gateway_date=None))
    assert "unknown (no `Date` header" in b.markdown
    assert b.report["timeline"]["now"]["source"] == "flow timestamp"


def test_http_api_string_claims_still_make_a_timeline():
    claims = {k: str(v) if k in {"exp", "iat"} else v for k, v in access_claims().items()}
    md = build_bundle(diagnosed(metadata=metadata(claims=claims))).markdown
    assert "| token exp | 2026-09-21T14:23:20Z | 10 min after |" in md


def test_report_json_shape():
    f = diagnosed()
    report = build_bundle(f).report
    json.dumps(report)
    assert report["format"] == "apigw-doctor-evidence/1"
    assert report["flow_id"] == f.id and report["status"] == 401
    meta = f.metadata["apigw_doctor"]
    assert {k: v for k, v in report["diagnosis"].items() if k != "token"} == {
        k: v for k, v in meta.items() if k != "token"
    }
    assert report["diagnosis"]["token"]["claims"] == meta["token"]["claims"]
    assert report["request"]["method"] == "GET"
    assert ["x-amzn-RequestId", REQUEST_ID] in report["response"]["headers"]
    assert report["response"]["body"]["text"] == '{"message":"Unauthorized"}'
    assert report["aws"]["request_ids"] == {"x-amzn-requestid": REQUEST_ID}
    assert report["aws"]["access_log_format"] == REST_ACCESS_LOG_FORMAT  # the safety pass leaves it alone
    assert report["sanitized_by"].startswith("sanitized-by:") and report["removed"]
    assert TOKEN not in json.dumps(report)


def test_long_bodies_are_cut_in_the_report_but_not_in_the_har():
    body = json.dumps({"items": ["x" * 100] * 400}).encode()
    b = build_bundle(diagnosed(status=403, response_content=body))
    assert b.report["response"]["body"]["truncated"] is True
    assert len(b.report["response"]["body"]["text"]) == BODY_LIMIT
    assert "more characters in flows.har" in b.markdown
    assert len(b.har["log"]["entries"][0]["response"]["content"]["text"]) == len(body)


def test_flow_with_transport_error_and_no_metadata(tmp_path):
    f = make_flow(status=None)
    path = write_bundle(f, tmp_path)
    md = (path / "report.md").read_text()
    assert md.startswith("# Not diagnosed by apigw-doctor") and "**no response**" in md
    assert json.loads((path / "report.json").read_text())["error"] == f.error.msg


def test_write_bundles_index_and_combined_har(tmp_path):
    flows = [
        diagnosed(),
        diagnosed(metadata=metadata(cause="missing-scope", title="Scope | missing")),
        tflow.ttcpflow(),
    ]
    root = write_bundles(flows, tmp_path).root
    assert re.fullmatch(r"\d{8}T\d{6}Z-evidence-2-flows", root.name)
    subdirs = sorted(p for p in root.iterdir() if p.is_dir())
    assert len(subdirs) == 2
    index = json.loads((root / "index.json").read_text())
    assert [row["cause"] for row in index["flows"]] == ["token-expired", "missing-scope"]
    md = (root / "index.md").read_text()
    assert "Scope \\| missing" in md and f"({index['flows'][0]['dir']}/report.md)" in md
    har = json.loads((root / "flows.har").read_text())
    assert len(har["log"]["entries"]) == 2
    assert har["log"]["comment"].startswith("sanitized-by:")


def test_hand_built_findings_with_none_fields_render():
    meta = metadata(checks=(Finding("kid", "warn"),), claims=None)
    md = build_bundle(diagnosed(metadata=meta)).markdown
    assert "| 1 | kid | warn |  |  |  |" in md and "## Token" not in md
