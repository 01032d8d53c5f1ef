"""Every value the addon puts on a flow is bounded, so mitmproxy can always save the flow (`-w`).

A 401 whose claims or body nest hundreds of levels deep once made mitmproxy's `get_state` deepcopy raise
RecursionError while saving: mitmdump logged "Addon error", stopped, and the flows after it were lost.
"""

from __future__ import annotations

import json

from mitmproxy import io as mitmio

from apigw_doctor.bounds import MAX_DEPTH, MAX_TOTAL, bound, levels
from tests.e2e.e2e_harness import read_flows, run_offline
from tests.robustness.robust_flows import b64url, flow


def _nested(depth: int) -> dict:
    value: dict = {"leaf": "x"}
    for _ in range(depth):
        value = {"a": value}
    return value


def _deep_token(depth: int) -> bytes:
    claims = {"token_use": "id", "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc", "exp": 1}
    claims["nested"] = _nested(depth)
    header = b64url(b'{"alg":"RS256","kid":"k1"}')
    return f"Bearer {header}.{b64url(json.dumps(claims).encode())}.c2lnbmF0dXJl".encode()


def _capture(tmp_path, count: int = 12):
    flows = []
    for i in range(count):
        if i % 3 == 0:
            f = flow(path=f"/prod/items/{i}", request_headers=[(b"authorization", _deep_token(900))])
        elif i % 3 == 1:
            body = json.dumps({"message": "Unauthorized", "detail": _nested(900)}).encode()
            f = flow(
                path=f"/prod/items/{i}", request_headers=[(b"authorization", _deep_token(300))], response_body=body
            )
        else:
            f = flow(path=f"/prod/items/{i}", request_headers=[(b"authorization", b"Bearer undefined")])
        flows.append(f)
    source = tmp_path / "hostile.mitm"
    with source.open("wb") as fp:
        writer = mitmio.FlowWriter(fp)
        for f in flows:
            writer.add(f)
    return source, [f.request.path for f in flows]


def test_deeply_nested_claims_and_bodies_lose_no_flow_through_mitmdump_w(tmp_path):
    source, paths = _capture(tmp_path)
    out = tmp_path / "out.mitm"
    result = run_offline(source, out, timeout=120)
    assert "Addon error" not in result.stdout + result.stderr, result.stdout[-3000:]
    saved = read_flows(out)
    assert [f.request.path for f in saved] == paths  # every flow, in order
    verdicts = [f.metadata.get("apigw_doctor") for f in saved]
    assert all(v is not None for v in verdicts)  # each got its verdict, and it was saved with the flow
    for meta in verdicts:
        assert levels(meta) <= MAX_DEPTH
        assert len(json.dumps(meta)) <= MAX_TOTAL + 1024
    deep = verdicts[0]["token"]["claims"]["nested"]
    assert "more levels" in json.dumps(deep)


def test_bound_summarises_depth_strings_lists_and_total():
    value = {"deep": _nested(50), "long": "y" * 10_000, "many": list(range(1000)), "esc": "a\x1b]8;;x\x07b"}
    out = bound(value)
    assert levels(out) <= MAX_DEPTH
    text = json.dumps(out)
    assert "more levels" in text and "more characters" in text and "more items" in text
    assert "\x1b" not in out["esc"] and "\x07" not in out["esc"]
    huge = {f"k{i}": "z" * 1000 for i in range(100)}
    assert len(json.dumps(bound(huge))) <= MAX_TOTAL + 1024
