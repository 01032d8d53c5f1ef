"""Property tests (docs/design.md, Robustness: "Fuzzed and hostile inputs never raise out of a hook, never trigger
network
I/O, and always end in a verdict").

Hypothesis builds whole flows: arbitrary header values (unicode, control characters, raw non-UTF-8 bytes), arbitrary
credentials (random text, dot-joined segments, base64url JSON with wrong claim types, huge claims, non-object JSON,
JWE-shaped values), arbitrary bodies and statuses. Each flow goes through `diagnose_flow` and through
`ApiGwDoctor().response`, with every socket entry point patched to record and refuse connections.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import string
from collections.abc import Iterator

from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from mitmproxy import io as mitmio
from mitmproxy.io import tnetstring

from apigw_doctor.addon import ApiGwDoctor
from apigw_doctor.engine import diagnose_flow
from apigw_doctor.knowledge import Knowledge
from tests.design_contract import DESIGN_CAUSES, DESIGN_WARNINGS
from tests.robustness.robust_flows import b64url, flow

CONFIDENCES = ("high", "medium", "low")
# ~200 examples keep the suite fast; APIGW_FUZZ_EXAMPLES=5000 for a longer hunt.
SETTINGS = settings(
    max_examples=int(os.environ.get("APIGW_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# --- strategies ---------------------------------------------------------------------------------------------------

B64URL = string.ascii_letters + string.digits + "-_"
# All of unicode, control characters included, plus lone surrogates (JSON's "\\ud800" escapes decode to them).
any_text = st.text(max_size=60) | st.text(
    alphabet=st.characters(max_codepoint=0x20) | st.characters(categories=["Cs"]) | st.sampled_from("[]/\\{}%$`'\"<>"),
    max_size=20,
)
header_bytes = st.one_of(
    any_text.map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(max_size=60),  # not UTF-8 at all
)
json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    any_text,
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)
# Plausible Cognito claim sets around the gateway Date used below (2026-11-26T22:40:00Z = 1795732800), any field
# possibly replaced by a wrong type, so the deeper checks (exp, iss, token_use, scope, aud) run too.
GATEWAY_NOW = 1795732800
near_now = st.integers(min_value=GATEWAY_NOW - 7200, max_value=GATEWAY_NOW + 7200)
cognito_claims = st.fixed_dictionaries(
    {
        "iss": st.sampled_from(
            [
                "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123",
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123",
                "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123/",
                "https://example.auth0.com/",
            ]
        )
        | json_value,
        "token_use": st.sampled_from(["id", "access"]) | json_value,
        "exp": near_now | json_value,
    },
    optional={
        "iat": near_now | json_value,
        "nbf": near_now | json_value,
        "aud": st.sampled_from(["1clientid", ["1clientid", "2other"]]) | json_value,
        "client_id": st.just("1clientid") | json_value,
        "scope": st.sampled_from(["aws.cognito.signin.user.admin", "orders/read openid", ""]) | json_value,
        "scp": st.lists(any_text, max_size=3) | json_value,
    },
)
claim_names = st.sampled_from(
    [
        "exp",
        "iat",
        "nbf",
        "auth_time",
        "iss",
        "aud",
        "client_id",
        "scope",
        "scp",
        "token_use",
        "sub",
        "cognito:groups",
        "cognito:username",
        "username",
        "origin_jti",
    ]
)
claims = st.one_of(
    cognito_claims,
    st.dictionaries(claim_names | any_text, json_value, max_size=10),
    json_value,  # lists, numbers, strings, null: JSON, but not an object
    st.builds(
        lambda n, v: {"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_" + "A" * n, "pad": v},
        st.integers(0, 20_000),
        st.text(max_size=5).map(lambda s: s * 3000),
    ),  # huge claims
)
jwt_header = st.one_of(
    st.fixed_dictionaries({"alg": json_value, "kid": json_value}),
    st.fixed_dictionaries({"alg": st.sampled_from(["RS256", "HS256", "none", "ES256"])}),
    json_value,
)


def _json_segment(value) -> str:
    return b64url(json.dumps(value).encode())


base64url_jwt = st.builds(
    lambda h, c, sig: f"{_json_segment(h)}.{_json_segment(c)}.{sig}",
    jwt_header,
    claims,
    st.text(alphabet=B64URL + "=.+/ ", max_size=40),
)
dotted = st.lists(st.text(alphabet=B64URL + "=+/.", max_size=30), min_size=1, max_size=7).map(".".join)
jwe_like = (
    st.lists(st.text(alphabet=B64URL, max_size=30), min_size=5, max_size=5)
    .map(".".join)
    .map(lambda s: "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ" + s[s.index(".") :])
)
placeholders = st.sampled_from(["undefined", "null", "[object Object]", "${token}", "{{token}}", "<token>", ""])
credential = st.one_of(base64url_jwt, dotted, jwe_like, placeholders, any_text)
# Payload JSON *text* with literals json.dumps never writes but json.loads accepts (NaN, 1e400, "\ud800").
raw_literal = st.sampled_from(
    [
        "1e400",
        "-1e400",
        "NaN",
        "Infinity",
        "-Infinity",
        "1e-400",
        "-0.0",
        "9" * 400,
        '"\\ud800"',
        '"\\udc80x"',
        '"\\u0000"',
        "[]",
        "{}",
        "true",
        "null",
    ]
)
raw_payload_jwt = st.builds(
    lambda pairs, sig: (
        _json_segment({"alg": "RS256", "kid": "k1"})
        + "."
        + b64url(("{" + ",".join(f'"{k}":{v}' for k, v in pairs) + "}").encode())
        + "."
        + sig
    ),
    st.lists(
        st.tuples(
            st.sampled_from(["exp", "iat", "nbf", "iss", "aud", "scope", "token_use", "client_id"]),
            raw_literal | st.sampled_from(['"id"', '"access"', str(1795732800)]),
        ),
        max_size=5,
    ),
    st.text(alphabet=B64URL, min_size=1, max_size=10),
)
plausible_jwt = st.builds(
    lambda h, c, sig: f"{_json_segment(h)}.{_json_segment(c)}.{sig}",
    st.sampled_from([{"alg": "RS256", "kid": "k1"}, {"alg": "HS256", "kid": "k1"}, {"alg": "RS256"}]),
    cognito_claims,
    st.text(alphabet=B64URL, min_size=1, max_size=40),
)
authorization = st.one_of(
    plausible_jwt.map(lambda t: "Bearer " + t),  # well-formed: the claim checks run
    plausible_jwt,
    raw_payload_jwt.map(lambda t: "Bearer " + t),
    credential,
    credential.map(lambda c: "Bearer " + c),
    st.tuples(
        st.sampled_from(["Bearer", "bearer", "Bearer:", "Bearer Bearer", "BEARER", "Basic", "AWS4-HMAC-SHA256"]),
        st.sampled_from([" ", "  ", "\t", "\n", " \r\n "]),
        credential,
        st.sampled_from(["", " ", "\n", '"']),
    ).map("".join),
    st.just(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261126/us-east-1/execute-api/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=0123abcd"
    ),
)
request_header_names = st.sampled_from(
    [
        b"x-api-key",
        b"cookie",
        b"x-amz-date",
        b"x-amz-security-token",
        b"origin",
        b"upgrade",
        b"x-apigw-api-id",
        b"x-authorization",
        b"access-token",
        b"id-token",
        b"content-encoding",
        b"x-id-token",
        b"host",
    ]
) | st.binary(min_size=1, max_size=20)
request_headers = st.lists(st.tuples(request_header_names, header_bytes), max_size=5)

regions = st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1"]) | st.from_regex(
    r"[a-z]{2}-[a-z]{4,9}-[1-9]", fullmatch=True
)
api_ids = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=12)
watched_hosts = st.one_of(
    st.builds(lambda i, r: f"{i}.execute-api.{r}.amazonaws.com", api_ids, regions),
    st.builds(lambda i, r: f"{i}-vpce-0abc123.execute-api.{r}.amazonaws.com", api_ids, regions),
)
unwatched_hosts = st.sampled_from(
    [
        "example.com",
        "execute-api.example.com",
        "abc.execute-api.us-east-1.amazonaws.com.evil.test",
        "localhost",
        "s3.us-east-1.amazonaws.com",
        "abc.appsync-api.us-east-1.amazonaws.com",
    ]
)
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]) | st.text(
    alphabet=string.ascii_uppercase, min_size=1, max_size=10
)
paths = st.one_of(
    st.sampled_from(["/prod/items", "/", "/items", "/prod/", "/oauth2/token", "/prod/items?access_token=x"]),
    any_text.map(lambda s: "/" + s),
    st.binary(max_size=40).map(lambda b: "/" + b.decode("latin-1")),
)
statuses = st.sampled_from([401, 403, 200, 500, 404]) | st.integers(min_value=100, max_value=599)
http_dates = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**40).map(
        lambda t: __import__("email.utils", fromlist=["formatdate"]).formatdate(t % 253402300799, usegmt=True)
    ),
    st.sampled_from(
        [
            "Thu, 26 Nov 2026 22:40:00 GMT",
            "Mon, 01 Jan 0001 00:00:00 GMT",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "garbage",
            "",
            "Thu, 99 Nov 2026 99:99:99 GMT",
            "-1",
        ]
    ),
    any_text,
)
response_header_pairs = st.lists(
    st.one_of(
        st.tuples(st.just(b"date"), http_dates.map(lambda s: s.encode("utf-8", "surrogatepass"))),
        st.tuples(
            st.just(b"x-amzn-errortype"),
            st.sampled_from(
                [
                    b"UnauthorizedException",
                    b"AccessDeniedException",
                    b"ForbiddenException",
                    b"MissingAuthenticationTokenException",
                    b"NotAuthorizedException:",
                    b"com.amazon.coral.service#InvalidSignatureException",
                    b":",
                    b"#",
                ]
            )
            | header_bytes,
        ),
        st.tuples(
            st.just(b"www-authenticate"),
            st.sampled_from(
                [
                    b'Bearer scope="" error="invalid_token" error_description="the token does not '
                    b'have a valid audience"',
                    b'error="invalid_token"',
                    b"Bearer",
                    b'="',
                ]
            )
            | header_bytes,
        ),
        st.tuples(
            st.sampled_from(
                [
                    b"apigw-requestid",
                    b"x-amzn-requestid",
                    b"x-amz-apigw-id",
                    b"access-control-allow-origin",
                    b"location",
                    b"x-amzn-errormessage",
                    b"via",
                    b"x-amz-cf-id",
                    b"content-encoding",
                    b"content-type",
                ]
            ),
            header_bytes,
        ),
        st.tuples(st.binary(min_size=1, max_size=20), header_bytes),
    ),
    max_size=6,
)
message_bodies = st.builds(
    lambda key, value: json.dumps({key: value}).encode(),
    st.sampled_from(["message", "Message", "MESSAGE", "error", "__type", "errors"]),
    st.one_of(
        json_value,
        st.sampled_from(
            [
                "Unauthorized",
                "The incoming token has expired",
                "Missing Authentication Token",
                "Forbidden",
                "User is not authorized to access this resource with an explicit deny",
            ]
        ),
    ),
)
bodies = st.one_of(
    message_bodies,
    st.sampled_from(
        [
            b'{"message":"Unauthorized"}',
            b'{"message":null}',
            b"",
            b"{",
            b"null",
            b"[]",
            b'{"errors":[1]}',
            b'{"errors":[{"message":{"x":1}}]}',
        ]
    ),
    st.binary(max_size=200),
    json_value.map(lambda v: json.dumps(v).encode()),
    st.integers(64 * 1024 - 10, 64 * 1024 + 10).map(lambda n: b'{"message":"' + b"x" * n + b'"}'),  # size limits
)


MOSTLY_WATCHED = st.one_of(watched_hosts, watched_hosts, watched_hosts, unwatched_hosts)


@st.composite
def flows(draw, hosts=MOSTLY_WATCHED):
    auth = draw(st.none() | authorization)
    headers = draw(request_headers)
    if auth is not None:
        headers.append((b"authorization", auth.encode("utf-8", "surrogatepass")))
    f = flow(
        host=draw(hosts),
        method=draw(methods),
        path=draw(paths),
        request_headers=headers,
        request_body=draw(st.just(b"") | bodies),
        status=draw(statuses),
        response_headers=draw(response_header_pairs),
        response_body=draw(bodies),
    )
    note(
        f"request: {f.request.method} {f.request.pretty_host} {f.request.path!r} {f.request.headers.fields!r} "
        f"body={f.request.raw_content[:200]!r}"
    )
    note(f"response: {f.response.status_code} {f.response.headers.fields!r} body={f.response.raw_content[:200]!r}")
    return f


# --- no network ---------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def no_network() -> Iterator[list[str]]:
    """Every way to open a connection or resolve a name records the attempt and fails."""
    attempts: list[str] = []
    saved = {
        (socket.socket, "connect"): socket.socket.connect,
        (socket.socket, "connect_ex"): socket.socket.connect_ex,
        (socket.socket, "sendto"): socket.socket.sendto,
        (socket, "create_connection"): socket.create_connection,
        (socket, "getaddrinfo"): socket.getaddrinfo,
        (socket, "gethostbyname"): socket.gethostbyname,
    }

    def refuse(name):
        def refused(*args, **kwargs):
            attempts.append(name)
            raise OSError(f"network I/O attempted during the engine run: {name}")

        return refused

    for owner, name in saved:
        setattr(owner, name, refuse(name))
    try:
        yield attempts
    finally:
        for (owner, name), original in saved.items():
            setattr(owner, name, original)


def _is_watched(f) -> bool:
    return Knowledge().hosts.match(f.request.pretty_host) is not None


def _assert_contract(meta: dict) -> None:
    assert meta["cause"] is None or meta["cause"] in DESIGN_CAUSES, meta["cause"]
    assert meta["confidence"] in (*CONFIDENCES, None)
    assert (meta["cause"] is None) == (meta["confidence"] is None)
    assert set(meta["warnings"]) <= DESIGN_WARNINGS
    json.dumps(meta, allow_nan=False)  # strict JSON: NaN/Infinity would not survive a JSON consumer
    tnetstring.dumps(meta)


# --- properties ---------------------------------------------------------------------------------------------------


@SETTINGS
@given(f=flows())
def test_engine_never_raises_and_every_watched_401_403_gets_a_verdict(f):
    with no_network() as attempts:
        diagnosis = diagnose_flow(f, Knowledge())
    assert attempts == []
    if not _is_watched(f):
        event("unwatched")
        assert diagnosis is None
        return
    if f.response.status_code in (401, 403):
        assert diagnosis is not None
        assert diagnosis.cause in DESIGN_CAUSES
        assert diagnosis.confidence in CONFIDENCES
    if diagnosis is None:
        event(f"no verdict for a {f.response.status_code // 100}xx")
    else:
        event(f"verdict: {diagnosis.cause}")
        _assert_contract(diagnosis.as_metadata())


@SETTINGS
@given(f=flows())
def test_addon_hook_never_raises_and_annotates_watched_failures(f):
    addon = ApiGwDoctor()
    request_before = f.request.get_state()
    response_before = f.response.get_state()
    with no_network() as attempts:
        addon.response(f)  # no exception may escape the hook
    assert attempts == []
    assert f.request.get_state() == request_before  # the addon never changes traffic
    assert f.response.get_state() == response_before
    meta = f.metadata.get("apigw_doctor")
    if _is_watched(f) and f.response.status_code in (401, 403):
        assert meta is not None
        assert meta["cause"] in DESIGN_CAUSES
        assert meta["confidence"] in CONFIDENCES
        assert f.comment.startswith(f"{meta['cause']} [")
    if meta is not None:
        _assert_contract(meta)
        assert f.marked == ""  # the addon never marks: @marked is the user's
        mitmio.FlowWriter(io.BytesIO()).add(f)  # what `-w` does with the annotated flow
    else:
        assert f.marked == ""
        assert f.comment == ""


@SETTINGS
@given(f=flows(hosts=watched_hosts), statuses_seen=st.lists(st.sampled_from([200, 401, 403]), max_size=4))
def test_learning_from_successes_never_breaks_later_verdicts(f, statuses_seen):
    """Passing flows feed the baseline; hostile tokens in them must not break the verdicts of later failures."""
    addon = ApiGwDoctor()
    with no_network() as attempts:
        for status in statuses_seen:
            earlier = f.copy()
            earlier.response.status_code = status
            addon.response(earlier)
        addon.response(f)
    assert attempts == []
    if _is_watched(f) and f.response.status_code in (401, 403):  # (a second Host header can unwatch it)
        assert f.metadata["apigw_doctor"]["cause"] in DESIGN_CAUSES
        _assert_contract(f.metadata["apigw_doctor"])
