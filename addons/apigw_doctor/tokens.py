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


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Text fit for a verdict: JWT signatures replaced by their fingerprint, and each of `secrets` removed.

    API Gateway echoes the Authorization header in some SigV4 parse errors (wire-reference "SigV4 and unknown routes"),
    so the gateway's own message
    can carry the caller's token.
    """
    for secret in secrets:
        if len(secret) >= 8 and secret in text:
            text = text.replace(secret, f"<credential {fingerprint(secret)}>")
    if "eyJ" in text:
        text = _JWT_IN_TEXT.sub(lambda m: f"{m[1]}.<signature {fingerprint(m[2])}>", text)
    return text


def token_summary(token: Token) -> dict[str, Any]:
    """The token as flow metadata may hold it: header and claims, a fingerprint, never the signature."""
    return {"header": dict(token.header), "claims": dict(token.claims), "fingerprint": token.fingerprint}


class _DecodeError:
    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


_BASE64URL = re.compile(r"[A-Za-z0-9_=-]*\Z")
_JWT_IN_TEXT = re.compile(r"(eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)\.([A-Za-z0-9_-]+)")


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
