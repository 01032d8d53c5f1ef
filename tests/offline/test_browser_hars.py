"""Issue 4 A: offline = live, for HARs shaped like each browser's export, mitmproxy's HAR and a flow file.

The live run (conftest `live`) goes through a real mitmdump with the addon; each flow's
`flow.metadata["apigw_doctor"]` is the reference. The same flows are then written as Chrome, Chrome sanitized,
Firefox, Safari and mitmproxy HARs (same headers, bodies, Date header and timings), and `apigw-doctor analyze --json`
runs on each, and on the flow file, as a subprocess.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.offline.conftest import KEY, Live, Run

FULL_COPIES = ("chrome", "firefox", "safari", "mitmproxy-har", "flow-file")
ALL_FILES = (*FULL_COPIES, "chrome-sanitized")
ROW_KEYS = {"index", "method", "url", "status", "target", "diagnosis"}
DIAGNOSIS_KEYS = {
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
OPTIONAL_DIAGNOSIS_KEYS = {"lineage"}  # only when the capture showed where the flow's token came from
CHECK_KEYS = {"id", "result", "expected", "actual", "note"}
TARGET_KEYS = {"surface", "api_id", "region", "stage"}

# Causes the gateway's (or Cognito's) own answer names, whatever the request carried: the status, the message
# text ("The incoming token has expired", "Missing Authentication Token", SigV4 texts, Cognito's __type/message,
# OAuth error codes), the OPTIONS method, and an x-api-key header (which a sanitized export keeps).
GATEWAY_DECIDED = {
    "token-expired", "route-not-found", "sigv4-expected", "sigv4-clock-skew", "sigv4-signature-mismatch",
    "sigv4-bad-credentials", "authorizer-denied", "authorizer-error", "api-key-rejected", "cors-preflight-blocked",
    "gateway-forbidden",
    "oauth-wrong-content-type", "oauth-invalid-client", "oauth-invalid-grant", "oauth-unauthorized-client",
    "oauth-invalid-request", "oauth-unsupported-grant-type", "oauth-redirect-mismatch", "cognito-bad-credentials",
    "cognito-secret-hash", "cognito-token-expired", "cognito-token-revoked", "cognito-missing-scope",
    "cognito-auth-flow-not-enabled", "identity-pool-provider-mismatch", "identity-pool-token-rejected",
    "identity-pool-unauth-disabled", "identity-pool-config", "backend-rejected", "waf-blocked",
    "custom-domain-unmapped",
}  # fmt: skip


def _verdict(meta: dict | None) -> tuple[str | None, str | None]:
    return (meta or {}).get("cause"), (meta or {}).get("confidence")


def _agreeing(meta: dict | None, expected: str | None) -> str | None:
    """The verdict's cause; or `expected` where the answer cannot tell them apart and the verdict, below high
    confidence, names `expected` as its alternative (e.g. 403 Forbidden without x-api-key: API key or WAF)."""
    cause, confidence = _verdict(meta)
    named = [a["cause"] for a in (meta or {}).get("alternatives", [])]
    return expected if cause != expected and confidence != "high" and expected in named else cause


_RANK = {"high": 2, "medium": 1, "low": 0}


def _live_meta(live: Live) -> list[dict | None]:
    return [f.metadata.get(KEY) for f in live.flows]


def _rows(run: Run) -> list[dict]:
    assert run.returncode == 0, run.stderr
    return run.doc["flows"]


def test_live_run_gave_each_scenario_its_cause(live: Live):
    """Guards the comparisons below against a trivial pass (e.g. neither side with any verdict)."""
    assert len(live.flows) == len(live.steps)
    got = [_agreeing(m, s.expected) for m, s in zip(_live_meta(live), live.steps, strict=True)]
    assert got == [s.expected for s in live.steps]
    assert sum(c is not None for c in got) > 40


@pytest.mark.parametrize("name", ALL_FILES)
def test_analyze_json_schema_is_exact(json_runs: dict[str, Run], live: Live, name: str):
    run = json_runs[name]
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    doc = run.doc
    assert set(doc) == {"flows"}
    rows = doc["flows"]
    assert len(rows) == len(live.flows)
    for i, (row, f) in enumerate(zip(rows, live.flows, strict=True), 1):
        assert set(row) == ROW_KEYS
        assert row["index"] == i
        assert row["method"] == f.request.method
        assert row["status"] == f.response.status_code
        assert isinstance(row["url"], str)
        d = row["diagnosis"]
        if d is None:
            assert row["target"] is None
            continue
        assert DIAGNOSIS_KEYS <= set(d) <= DIAGNOSIS_KEYS | OPTIONAL_DIAGNOSIS_KEYS
        assert row["target"] == d["target"]
        assert set(d["target"]) == TARGET_KEYS
        assert d["cause"] is None or isinstance(d["cause"], str)
        assert d["confidence"] in ("high", "medium", "low") if d["cause"] else d["confidence"] is None
        assert isinstance(d["title"], str) and isinstance(d["summary"], str)
        assert all(isinstance(x, str) for x in d["evidence"] + d["fix"] + d["warnings"])
        assert all(set(c) == CHECK_KEYS for c in d["checks"])
        assert d["token"] is None or isinstance(d["token"], dict)
        assert d["cause"] or d["warnings"], "a diagnosis without cause must carry warnings"


@pytest.mark.parametrize("name", ALL_FILES)
def test_urls_in_json_hide_long_query_values(json_runs: dict[str, Run], live: Live, name: str):
    rows = _rows(json_runs[name])
    with_query = 0
    for row, f in zip(rows, live.flows, strict=True):
        shown, original = urlsplit(row["url"]), urlsplit(f.request.pretty_url)
        assert (shown.scheme, shown.hostname, shown.path) == (original.scheme, original.hostname, original.path)
        if not original.query:
            continue
        with_query += 1
        sent = parse_qsl(original.query, keep_blank_values=True)
        got = parse_qsl(shown.query, keep_blank_values=True)
        assert [k for k, _ in got] == [k for k, _ in sent]
        for (key, value), (_, out) in zip(sent, got, strict=True):
            if len(value) > 12 or "." in value:
                assert out != value and value not in row["url"], (key, value[:20])
            else:
                assert out == value  # short words stay readable (limit=5, response_type=code)
    assert with_query >= 2  # the planted ?access_token=<JWT>&limit=5 and /oauth2/authorize?...
    planted = next(r for r in rows if "access_token=" in r["url"])
    assert "limit=5" in planted["url"]
    query_jwt = dict(parse_qsl(urlsplit(live.flows[rows.index(planted)].request.url).query))["access_token"]
    assert query_jwt.count(".") == 2 and query_jwt.rsplit(".", 1)[1] not in json_runs[name].stdout


@pytest.mark.parametrize("name", FULL_COPIES)
def test_same_cause_and_confidence_as_live(json_runs: dict[str, Run], live: Live, name: str):
    rows = _rows(json_runs[name])
    wrong = [
        (step.label, _verdict(meta), _verdict(row["diagnosis"]))
        for step, meta, row in zip(live.steps, _live_meta(live), rows, strict=True)
        if _verdict(meta) != _verdict(row["diagnosis"])
    ]
    assert not wrong, f"{name}: (flow, live, offline) {wrong}"


@pytest.mark.parametrize("name", FULL_COPIES)
def test_same_whole_diagnosis_as_live(json_runs: dict[str, Run], live: Live, name: str):
    """Not just the headline: checks, evidence, summary and token by the gateway's clock, as live."""
    rows = _rows(json_runs[name])
    for step, meta, row in zip(live.steps, _live_meta(live), rows, strict=True):
        assert row["diagnosis"] == meta, step.label


def _sanitized_mismatches(live: Live, json_runs: dict[str, Run], labels: set[str] | None, skip: set[str]):
    rows = _rows(json_runs["chrome-sanitized"])
    out = []
    for step, meta, row in zip(live.steps, _live_meta(live), rows, strict=True):
        if step.label in skip or (labels is not None and step.label not in labels):
            continue
        cause, confidence = _verdict(meta)
        if cause is None:
            expected: tuple[str | None, str | None] = (None, None)
        elif cause in GATEWAY_DECIDED:
            expected = (cause, confidence)
            got = _verdict(row["diagnosis"])
            if got[0] == cause and got[1] and confidence and _RANK[got[1]] <= _RANK[confidence]:
                continue  # same cause; the export knows less (no earlier credentials), so it may be less sure
        else:
            expected = ("unexplained", "low")
        got = _verdict(row["diagnosis"])
        if got[0] is None:
            got = (None, None)  # a warning-only diagnosis of a passing flow counts as "no failure"
        if got != expected:
            out.append((step.label, (cause, confidence), expected, got))
    return out


def test_sanitized_chrome_har_is_what_the_sample_claims(json_runs: dict[str, Run]):
    """The premise: no Authorization / Cookie / Set-Cookie anywhere, and Chrome's creator name."""
    text = json_runs["chrome-sanitized"].path.read_text()
    log = json.loads(text)["log"]
    assert log["creator"]["name"] == "WebInspector"
    names = {h["name"].lower() for e in log["entries"] for m in ("request", "response") for h in e[m]["headers"]}
    assert not names & {"authorization", "cookie", "set-cookie"}
    assert ":authority" in names and "x-amzn-requestid" in names


def test_sanitized_chrome_har_keeps_gateway_decided_verdicts(json_runs: dict[str, Run], live: Live):
    decided = {s.label for s, m in zip(live.steps, _live_meta(live), strict=True) if _verdict(m)[0] in GATEWAY_DECIDED}
    assert {"token-expired", "route-not-found", "sigv4-signature-mismatch", "cognito-secret-hash"} <= decided
    assert not _sanitized_mismatches(live, json_runs, decided, set())


def test_sanitized_chrome_har_turns_token_verdicts_into_unexplained_low(json_runs: dict[str, Run], live: Live):
    assert not _sanitized_mismatches(live, json_runs, None, set())


def test_sanitized_chrome_har_never_says_missing_credential(json_runs: dict[str, Run], live: Live):
    rows = _rows(json_runs["chrome-sanitized"])
    said = [
        s.label for s, r in zip(live.steps, rows, strict=True) if _verdict(r["diagnosis"])[0] == "missing-credential"
    ]
    assert not said


def test_sanitized_chrome_har_says_why_in_the_summary(json_runs: dict[str, Run]):
    rows = _rows(json_runs["chrome-sanitized"])
    unexplained = [r["diagnosis"] for r in rows if _verdict(r["diagnosis"]) == ("unexplained", "low")]
    assert unexplained
    assert all("exported without credentials" in d["summary"] for d in unexplained)
    assert all(c["result"] == "skip" for d in unexplained for c in d["checks"] if c["id"] == "credential.present")


def test_full_chrome_har_is_not_mistaken_for_a_sanitized_one(json_runs: dict[str, Run]):
    rows = _rows(json_runs["chrome"])
    assert not any("exported without credentials" in (r["diagnosis"] or {}).get("summary", "") for r in rows)
