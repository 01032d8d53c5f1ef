"""Pipeline step 2, Credential: where the credential is, what shape it has, and what damage the raw value shows."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from .model import Credential, CredentialKind, SigV4

JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")  # only ever `.match`ed (anchored)
_RUN = re.compile(r"[A-Za-z0-9_.-]+")  # one character class: finding runs is linear
_PLACEHOLDER_WORDS = frozenset(
    {
        "undefined",
        "null",
        "none",
        "nil",
        "nan",
        "[object object]",
        "token",
        "your_token",
        "yourtoken",
        "bearer",
        "false",
    }
)
_TEMPLATE = re.compile(r"^(\$\{.*\}|\{\{.*\}\}|<.*>|%.*%|\$[A-Za-z_]+)$")
_SIGV4_PART = re.compile(r"(Credential|SignedHeaders|Signature)=([^,\s]*)")
_QUOTES = "\"'`"
# Query parameters and cookies that commonly carry a token sent to the wrong place.
_TOKEN_NAMES = re.compile(r"(^|[._-])(id_?token|access_?token|token|jwt|auth|authorization)$", re.IGNORECASE)


def find_credential(
    headers: Mapping[str, str],
    query: Iterable[tuple[str, str]],
    cookies: Iterable[tuple[str, str]],
    identity_header: str = "authorization",
) -> Credential:
    api_key_sent = bool(headers.get("x-api-key"))
    raw = headers.get(identity_header)
    if raw is not None:
        return _from_identity_value(raw, f"header:{_title(identity_header)}", api_key_sent, headers, query)
    elsewhere = _find_elsewhere(headers, query, cookies, identity_header)
    if elsewhere is not None:
        location, value = elsewhere
        parsed = _from_identity_value(value, location, api_key_sent, headers, query)
        return _replace_location(parsed, location)
    if presigned := _sigv4_from_query(query, headers):
        return Credential("sigv4", "query:X-Amz-Signature", api_key_sent=api_key_sent, sigv4=presigned)
    if api_key_sent:
        return Credential("api-key", "header:x-api-key", api_key_sent=True, in_identity_header=False)
    return Credential("missing", api_key_sent=api_key_sent)


def _from_identity_value(
    raw: str,
    location: str,
    api_key_sent: bool,
    headers: Mapping[str, str],
    query: Iterable[tuple[str, str]],
) -> Credential:
    damage: list[str] = []
    if "\r" in raw or "\n" in raw:
        damage.append("line-break")
    if raw != raw.lstrip():
        damage.append("leading-whitespace")
    if raw != raw.rstrip():
        damage.append("trailing-whitespace")
    value = raw.strip()
    scheme, value = _split_scheme(value, damage)

    if scheme and scheme.upper() == "AWS4-HMAC-SHA256":
        return Credential(
            "sigv4", location, scheme, value, raw, tuple(damage), True, api_key_sent, _parse_sigv4(value, headers)
        )
    if scheme and scheme.lower() == "basic":
        return Credential("basic", location, "Basic", value, raw, tuple(damage), True, api_key_sent)

    if _is_placeholder(value.strip(_QUOTES)):
        return Credential("placeholder", location, scheme, value, raw, tuple(damage), True, api_key_sent)
    if value[:1] in _QUOTES or value[-1:] in _QUOTES:
        damage.append("quoted")
        value = value.strip(_QUOTES).strip()
    if re.search(r"\s", value):
        damage.append("inner-whitespace")
        value = re.sub(r"\s+", "", value)
    return Credential(_shape(value), location, scheme, value, raw, tuple(damage), True, api_key_sent)


def _split_scheme(value: str, damage: list[str]) -> tuple[str | None, str]:
    """Peel `Bearer` (and its mistakes: `Bearer:`, `Bearer Bearer`, `bearer`) off the front of the value."""
    head, _, rest = value.partition(" ")
    if head[:7].lower() == "bearer:" and len(head) > 7:  # `Bearer:eyJ...`, no space
        head, rest = head[:7], head[7:] + (" " + rest if rest else "")
    word = head.rstrip(":")
    if word.upper() == "AWS4-HMAC-SHA256" or word.lower() == "basic":
        return word, rest.strip()
    if word.lower() != "bearer":
        return None, value
    if head.endswith(":"):
        damage.append("scheme-colon")
    if word != "Bearer":
        damage.append("scheme-case")
    rest = rest.lstrip()
    again, _, after = rest.partition(" ")
    if again.rstrip(":").lower() == "bearer":
        damage.append("double-scheme")
        rest = after.lstrip()
    return "Bearer", rest


def _is_placeholder(value: str) -> bool:
    return not value or value.lower() in _PLACEHOLDER_WORDS or bool(_TEMPLATE.match(value))


def _shape(value: str) -> CredentialKind:
    if _is_placeholder(value):
        return "placeholder"
    parts = value.split(".")
    if len(parts) == 5:
        return "jwe"
    if len(parts) == 3 or value.startswith("eyJ"):
        return "jwt"
    return "opaque"


def _parse_sigv4(value: str, headers: Mapping[str, str]) -> SigV4:
    parts = dict(_SIGV4_PART.findall(value))
    return _sigv4(
        parts.get("Credential", ""),
        parts.get("SignedHeaders", ""),
        headers.get("x-amz-date"),
        "x-amz-security-token" in headers,
    )


def _sigv4_from_query(query: Iterable[tuple[str, str]], headers: Mapping[str, str]) -> SigV4 | None:
    params = {k.lower(): v for k, v in query}
    if "x-amz-signature" not in params:
        return None
    return _sigv4(
        params.get("x-amz-credential", ""),
        params.get("x-amz-signedheaders", ""),
        params.get("x-amz-date"),
        "x-amz-security-token" in params,
    )


def _sigv4(credential_scope: str, signed_headers: str, amz_date: str | None, has_security_token: bool) -> SigV4:
    """`AKID/20261126/us-east-1/execute-api/aws4_request` and `host;x-amz-date`, from a header or a presigned URL."""
    scope = credential_scope.split("/")
    return SigV4(
        access_key_id=scope[0] or None,
        date=scope[1] if len(scope) > 1 else None,
        region=scope[2] if len(scope) > 2 else None,
        service=scope[3] if len(scope) > 3 else None,
        signed_headers=tuple(h for h in signed_headers.split(";") if h),
        amz_date=amz_date,
        has_security_token=has_security_token,
    )


def _find_elsewhere(
    headers: Mapping[str, str],
    query: Iterable[tuple[str, str]],
    cookies: Iterable[tuple[str, str]],
    identity_header: str,
) -> tuple[str, str] | None:
    """A token sent in another header, the query string or a cookie (the `wrong-header` cause)."""
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in (identity_header, "cookie", "x-api-key"):
            continue
        if contains_jwt(value) or lowered in ("authorization", "x-authorization", "access-token", "id-token"):
            return f"header:{_title(name)}", value
    for name, value in query:
        if JWT_SHAPE.match(value) or (_TOKEN_NAMES.search(name) and value):
            return f"query:{name}", value
    for name, value in cookies:
        if JWT_SHAPE.match(value):
            return f"cookie:{name}", value
    return None


def contains_jwt(text: str) -> bool:
    """`JWT_SHAPE.search(text)` in linear time: a search with that pattern is quadratic on a header of repeated
    `eyJ` (300 KB once stalled every flow for 23 s). A run of base64url and dots holds a JWT when a segment with
    `eyJ` is followed by two more dots."""
    if "eyJ" not in text:
        return False
    for run in _RUN.findall(text):
        segments = run.split(".")
        if any("eyJ" in segment for segment in segments[:-2]):
            return True
    return False


def _replace_location(found: Credential, location: str) -> Credential:
    return Credential(
        found.kind,
        location,
        found.scheme,
        found.token,
        found.raw,
        found.damage,
        False,
        found.api_key_sent,
        found.sigv4,
    )


def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))
