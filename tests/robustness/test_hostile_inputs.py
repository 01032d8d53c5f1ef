"""Hostile inputs found by the property tests, pinned as plain examples (each names its input).

For each: the engine must give a verdict for a watched 401 (docs/design.md: "always end in a verdict"), and the
annotated
flow must still be writable to a `-w` flow file and its metadata be strict JSON (docs/design.md, "Flow metadata").
"""

from __future__ import annotations

import io
import json

import pytest
from mitmproxy import io as mitmio
from mitmproxy.io import tnetstring

from apigw_doctor.addon import ApiGwDoctor
from apigw_doctor.engine import diagnose_flow
from apigw_doctor.knowledge import Knowledge
from tests.robustness.robust_flows import GATEWAY_DATE, b64url, flow


def _jwt_with_raw_payload(payload_json_text: str) -> bytes:
    """A JWT whose payload is the given JSON *text*, so non-standard literals (NaN, 1e400, "\\ud800") survive."""
    return (
        "Bearer " + b64url(b'{"alg":"RS256","kid":"k1"}') + "." + b64url(payload_json_text.encode()) + ".c2ln"
    ).encode()


DATE = (b"date", GATEWAY_DATE.encode())
HOSTILE = {
    # Header values are bytes on the wire; obs-text (0x80-0xFF) is legal HTTP and decodes to lone surrogates.
    "x-amzn-errortype-not-utf8": {"response_headers": [DATE, (b"x-amzn-errortype", b"\x80")]},
    "apigw-requestid-not-utf8": {"response_headers": [DATE, (b"apigw-requestid", b"\x80")]},
    "authorization-not-utf8": {"request_headers": [(b"authorization", b"Bearer \xff\xfe")]},
    "blank-www-authenticate": {"response_headers": [DATE, (b"www-authenticate", b" ")]},
    # JSON escapes and literals that Python's json accepts but that are not valid in UTF-8 / RFC 8259 JSON.
    "iss-lone-surrogate-escape": {
        "request_headers": [(b"authorization", _jwt_with_raw_payload('{"iss":"\\ud800","token_use":"id","exp":1}'))]
    },
    "exp-Infinity": {"request_headers": [(b"authorization", _jwt_with_raw_payload('{"exp":Infinity}'))]},
    "exp-NaN": {"request_headers": [(b"authorization", _jwt_with_raw_payload('{"exp":NaN}'))]},
    "exp-1e400": {"request_headers": [(b"authorization", _jwt_with_raw_payload('{"exp":1e400,"token_use":"id"}'))]},
    "exp-400-digits": {
        "request_headers": [(b"authorization", _jwt_with_raw_payload('{"exp":' + "9" * 400 + ',"token_use":"id"}'))]
    },
    "iat-minus-Infinity": {
        "request_headers": [(b"authorization", _jwt_with_raw_payload('{"exp":1,"iat":-Infinity,"token_use":"id"}'))]
    },
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_engine_gives_a_verdict(name):
    diagnosis = diagnose_flow(flow(**HOSTILE[name]), Knowledge())
    assert diagnosis is not None
    assert diagnosis.confidence in ("high", "medium", "low")


@pytest.mark.parametrize("name", list(HOSTILE))
def test_annotated_flow_stays_saveable_and_json(name):
    f = flow(**HOSTILE[name])
    ApiGwDoctor().response(f)
    meta = f.metadata["apigw_doctor"]
    tnetstring.dumps(meta)
    json.dumps(meta, allow_nan=False)
    mitmio.FlowWriter(io.BytesIO()).add(f)  # what `mitmdump -w` does right after the response hook
