"""AWS Signature Version 4: a signer for the scenarios and a verifier for the sandbox's IAM-protected surfaces.

The verifier walks the steps in the order the answers in the reference imply (wire-reference "SigV4 and unknown
routes"): parse the header, then
the key id, the credential scope, the request time (5-minute window), and last the signature itself.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import parse_qsl, quote, unquote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
SKEW_SECONDS = 300  # wire-reference "SigV4 and unknown routes": execute-api answers "Signature expired ... - 5 min."
REQUIRED_PARAMS = ("Credential", "Signature", "SignedHeaders")

Outcome = Literal[
    "ok",
    "unsigned",  # no Authorization header at all
    "missing-equal-sign",  # a word after the scheme that is not key=value (e.g. `Bearer <jwt>`)
    "incomplete",  # Credential / Signature / SignedHeaders / a date header missing (e.g. a bare token)
    "unknown-key",
    "wrong-region",
    "wrong-service",
    "expired",
    "not-yet-current",
    "mismatch",
]


@dataclass(frozen=True, slots=True)
class Credentials:
    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True, slots=True)
class Verification:
    outcome: Outcome
    missing: tuple[
        str, ...
    ] = ()  # for "incomplete": names as wire-reference "SigV4 and unknown routes" orders them, plus "date"
    request_date: str = ""  # X-Amz-Date as sent, for the "Signature expired" text
    region: str = ""  # region in the credential scope, for the "wrong-region" text
    access_key_id: str = ""


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    k = _hmac(("AWS4" + secret).encode(), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


def canonical_request(
    method: str, path: str, query: str, headers: Mapping[str, Sequence[str]], *, signed: Sequence[str], body: bytes
) -> str:
    """`headers` maps lower-case names to all their values, as received."""
    canonical_uri = quote(unquote(path or "/"), safe="/-_.~")
    pairs = sorted((_encode(k), _encode(v)) for k, v in parse_qsl(query, keep_blank_values=True))
    canonical_query = "&".join(f"{k}={v}" for k, v in pairs)
    lines = []
    for name in signed:
        values = headers.get(name, [])
        lines.append(f"{name}:{','.join(' '.join(v.split()) for v in values)}\n")
    payload = (headers.get("x-amz-content-sha256") or [hashlib.sha256(body).hexdigest()])[0]
    return "\n".join([method.upper(), canonical_uri, canonical_query, "".join(lines), ";".join(signed), payload])


def _string_to_sign(amz_date: str, scope: str, creq: str) -> str:
    return "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])


def sign(
    method: str,
    url: str,
    creds: Credentials,
    *,
    region: str,
    service: str,
    now: float,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
) -> dict[str, str]:
    """Return the headers to add (Authorization, X-Amz-Date) to sign `url` with `creds` at time `now`."""
    parts = urlsplit(url)
    amz = datetime.datetime.fromtimestamp(now, datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    hdrs = {k.lower(): [v] for k, v in (headers or {}).items()}
    hdrs["host"] = [parts.netloc]
    hdrs["x-amz-date"] = [amz]
    signed = sorted(hdrs)
    scope = f"{amz[:8]}/{region}/{service}/aws4_request"
    creq = canonical_request(method, parts.path, parts.query, hdrs, signed=signed, body=body)
    sig = hmac.new(
        signing_key(creds.secret_access_key, amz[:8], region, service),
        _string_to_sign(amz, scope, creq).encode(),
        hashlib.sha256,
    ).hexdigest()
    return {
        "Authorization": f"{ALGORITHM} Credential={creds.access_key_id}/{scope}, "
        f"SignedHeaders={';'.join(signed)}, Signature={sig}",
        "X-Amz-Date": amz,
    }


def _request_time(headers: Mapping[str, Sequence[str]]) -> tuple[float, str] | None:
    if headers.get("x-amz-date"):
        raw = headers["x-amz-date"][0]
        try:
            parsed = datetime.datetime.strptime(raw, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
        except ValueError:
            return None
        return parsed.timestamp(), raw
    if headers.get("date"):
        try:
            parsed = parsedate_to_datetime(headers["date"][0])
        except (TypeError, ValueError):
            return None
        return parsed.timestamp(), parsed.strftime("%Y%m%dT%H%M%SZ")
    return None


def verify(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, Sequence[str]],
    body: bytes,
    *,
    keys: Mapping[str, str],
    region: str,
    service: str,
    now: float,
    skew: float = SKEW_SECONDS,
) -> Verification:
    """Check a request's SigV4 signature. `headers`: lower-case name -> values; `keys`: access key id -> secret.

    `skew`: the accepted clock difference (5 minutes on execute-api; Cognito answers "... - 15 min.").
    """
    values = headers.get("authorization")
    if not values:
        return Verification("unsigned")
    authorization = values[0].strip()
    words = authorization.split(None, 1)
    params: dict[str, str] = {}
    if len(words) == 2:
        for pair in words[1].split(","):
            key, eq, value = pair.strip().partition("=")
            if not eq:
                return Verification("missing-equal-sign")
            params[key.strip()] = value.strip()
    missing = [p for p in REQUIRED_PARAMS if p not in params]
    if "x-amz-date" not in headers and "date" not in headers:
        missing.append("date")
    if missing:
        return Verification("incomplete", missing=tuple(missing))

    scope = params["Credential"].split("/")
    akid = scope[0]
    if akid not in keys:
        return Verification("unknown-key", access_key_id=akid)
    if len(scope) != 5 or words[0] != ALGORITHM:
        return Verification("mismatch", access_key_id=akid)
    _, date, cred_region, cred_service, terminator = scope
    if cred_region != region:
        return Verification("wrong-region", region=cred_region, access_key_id=akid)
    if cred_service != service:
        return Verification("wrong-service", access_key_id=akid)

    when = _request_time(headers)
    if when is None:
        return Verification("mismatch", access_key_id=akid)
    ts, raw_date = when
    if ts < now - skew:
        return Verification("expired", request_date=raw_date, access_key_id=akid)
    if ts > now + skew:
        return Verification("not-yet-current", request_date=raw_date, access_key_id=akid)

    signed = params["SignedHeaders"].split(";")
    amz = headers["x-amz-date"][0] if headers.get("x-amz-date") else raw_date
    creq = canonical_request(method, path, query, headers, signed=signed, body=body)
    expected = hmac.new(
        signing_key(keys[akid], date, cred_region, cred_service),
        _string_to_sign(amz, "/".join((date, cred_region, cred_service, terminator)), creq).encode(),
        hashlib.sha256,
    ).hexdigest()
    if terminator != "aws4_request" or "host" not in signed or not hmac.compare_digest(expected, params["Signature"]):
        return Verification("mismatch", access_key_id=akid)
    return Verification("ok", access_key_id=akid)
