"""Pipeline step 3, Token: decode a JWT without trusting it.

Decoding is done by hand (base64url + JSON) rather than with PyJWT, because a diagnosis needs to say *which*
part is broken (segments, base64url, JSON, truncation), where a verifier only says "invalid".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any

from . import safejson
from .model import Token


def fingerprint(secret_part: str) -> str:
    """A short, stable, non-reversible tag for a token: equal tags mean the same token was sent."""
    return hashlib.sha256(secret_part.encode("utf-8", "replace")).hexdigest()[:10]


def decode_token(value: str) -> Token:
    parts = value.split(".")
    if len(parts) == 5:
        header = _decode_json(parts[0])
        return Token(
            header=header if isinstance(header, dict) else {},
            claims={},
            fingerprint=fingerprint(value),
            encrypted=True,
        )
    if len(parts) != 3:
        return Token({}, {}, fingerprint(value), problems=(f"has {len(parts)} dot-separated segments, a JWT has 3",))
    problems: list[str] = []
    header = _decode_json(parts[0])
    claims = _decode_json(parts[1])
    for name, decoded in (("header", header), ("payload", claims)):
        if isinstance(decoded, _DecodeError):
            problems.append(f"{name} segment: {decoded.reason}")
        elif not isinstance(decoded, dict):
            problems.append(f"{name} segment is JSON but not an object")
    if not parts[2]:
        problems.append("signature segment is empty (token truncated, or an unsigned token)")
    elif not _is_base64url(parts[2]):
        problems.append("signature segment is not base64url")
    return Token(
        header=header if isinstance(header, dict) else {},
        claims=claims if isinstance(claims, dict) else {},
        fingerprint=fingerprint(parts[2] or value),
        problems=tuple(problems),
    )


# Cognito's refresh tokens are 5-part JWEs with this header (alg/enc) and no claims an outsider can read.
_COGNITO_REFRESH_ALG, _COGNITO_REFRESH_ENC = "RSA-OAEP", "A256GCM"


def is_cognito_refresh_shape(token: Token) -> bool:
    """A 5-part JWE shaped like a Cognito refresh token: RSA-OAEP / A256GCM, and no `iss` in its header."""
    header = token.header
    return (
        token.encrypted
        and header.get("alg") == _COGNITO_REFRESH_ALG
        and header.get("enc") == _COGNITO_REFRESH_ENC
        and "iss" not in header
    )


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Text from the wire fit for a verdict: the request's credential and every secret shape removed.

    API Gateway echoes the Authorization header in some SigV4 parse errors (wire-reference "SigV4 and unknown
    routes"), and the SigV4 signature mismatch message echoes the canonical request, `x-amz-security-token:<token>`
    included. So: each of `secrets` becomes its fingerprint, JWT signatures become theirs, security tokens and
    signatures go. Linear in the length of `text`, which is capped first.
    """
    if len(text) > MAX_SCRUBBED:
        text = f"{text[:MAX_SCRUBBED]}…({len(text) - MAX_SCRUBBED} more characters)"
    for secret in secrets:
        if len(secret) >= 8 and secret in text:
            text = text.replace(secret, f"<credential {fingerprint(secret)}>")
    if "eyJ" in text:
        text = _RUN.sub(_scrub_run, text)
    if "ecurity" in text or "ECURITY" in text:
        text = _SECURITY_TOKEN.sub(lambda m: f"{m[1]}<security token removed>", text)
    if "ignature" in text or "IGNATURE" in text:
        text = _SIGNATURE.sub(lambda m: f"{m[1]}<signature removed>", text)
    return text


def _scrub_run(m: re.Match[str]) -> str:
    """One run of base64url and dots: each JWT in it (`...eyJ<header>.<claims>.<signature>`) loses its signature."""
    run = m[0]
    if run.count(".") < 2 or "eyJ" not in run:
        return run
    segments = run.split(".")
    i = 0
    while i + 2 < len(segments):
        if "eyJ" in segments[i] and segments[i + 2]:
            segments[i + 2] = f"<signature {fingerprint(segments[i + 2])}>"
            i += 3
        else:
            i += 1
    return ".".join(segments)


def token_summary(token: Token) -> dict[str, Any]:
    """The token as flow metadata may hold it: header and claims, a fingerprint, never the signature."""
    return {"header": dict(token.header), "claims": dict(token.claims), "fingerprint": token.fingerprint}


class _DecodeError:
    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


_BASE64URL = re.compile(r"[A-Za-z0-9_=-]*\Z")
MAX_SCRUBBED = 8192  # characters of a wire text kept for a verdict; longer texts are cut before any search
# Single character classes and literal prefixes only: each search is linear on untrusted text.
_RUN = re.compile(r"[A-Za-z0-9_.-]+")
_SECURITY_TOKEN = re.compile(r"(?i)(x-amz-security-token[ \t]{0,4}[:=][ \t]{0,4})([^\s&'\",;<>]+)")
_SIGNATURE = re.compile(r"(?i)((?:x-amz-)?signature[ \t]{0,4}=[ \t]{0,4})([0-9a-f]{16,})")


def _is_base64url(segment: str) -> bool:
    return _BASE64URL.match(segment) is not None


def _decode_json(segment: str) -> Any:
    if not _is_base64url(segment):
        return _DecodeError("not base64url (characters outside A-Z a-z 0-9 - _)")
    padded = segment + "=" * (-len(segment) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded)
    except (binascii.Error, ValueError):
        return _DecodeError("not valid base64url (truncated?)")
    try:
        return safejson.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _DecodeError("decodes, but not to JSON we can trust (truncated, corrupted, or absurd numbers)")
