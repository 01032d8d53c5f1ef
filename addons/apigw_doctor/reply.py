"""Pipeline step 4, Reply: the gateway's signals, normalised (wire-reference "Who answered" for which header means
what)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

import brotli
from mitmproxy import http

from . import safejson, wire
from .model import Reply
from .tokens import scrub

try:
    from compression import zstd  # type: ignore[import-not-found]  # Python 3.14
except ImportError:  # pragma: no cover - mitmproxy depends on the backport before 3.14
    from backports import zstd  # type: ignore[import-not-found,no-redef]

_MAX_BODY = 64 * 1024  # gateway error bodies are tiny; never parse a large payload
_MAX_HEADER = 8192  # characters of www-authenticate parsed; the documented values are a few hundred
_CHUNK = 16 * 1024  # compressed bytes fed to a decoder at a time
# Bounded names and separators, and a value that stops at the next quote: linear on any header.
_WWW_AUTH_PARAM = re.compile(r'(?<![A-Za-z_])([A-Za-z_]{1,64})[ \t]{0,8}=[ \t]{0,8}"([^"]*)"')


class BodyTooLarge(ValueError):
    """A body that decodes to more than the limit: nothing this tool reads is that large."""


def decoded_body(message: http.Message, limit: int = _MAX_BODY, *, strict: bool = False) -> bytes | None:
    """The body, decoded from its Content-Encoding, at most `limit` + 1 bytes (so a caller can tell "larger").

    Decoded incrementally: a 300 KB gzip body that inflates to 300 MB costs only `limit` bytes, never the whole
    inflation (mitmproxy's `get_content` decodes all of it). An undecodable body comes back raw, as mitmproxy's
    `get_content(strict=False)` does; with `strict`, it raises ValueError instead.
    """
    raw = message.raw_content
    if raw is None:  # streamed bodies are not kept
        return None
    encoding = message.headers.get("content-encoding", "").strip().lower()
    if not raw or encoding in ("", "identity", "none"):
        return raw
    try:
        if encoding in ("gzip", "x-gzip", "deflate"):
            return _inflate(raw, limit, 47 if encoding != "deflate" else 15)
        if encoding == "br":
            return _brotli(raw, limit)
        if encoding == "zstd":
            return _zstd(raw, limit)
    except (zlib.error, brotli.error, zstd.ZstdError, EOFError, ValueError) as e:
        if strict:
            raise ValueError(f"cannot decode {encoding} body: {e}") from None
        return raw
    if strict:
        raise ValueError(f"unknown content-encoding {encoding}")
    return raw


def _inflate(raw: bytes, limit: int, wbits: int) -> bytes:
    try:
        decoder = zlib.decompressobj(wbits)
        out = decoder.decompress(raw, limit + 1)
    except zlib.error:
        if wbits != 15:
            raise
        decoder = zlib.decompressobj(-15)  # raw DEFLATE without the zlib header, which some servers send
        out = decoder.decompress(raw, limit + 1)
    return out


def _brotli(raw: bytes, limit: int) -> bytes:
    decoder = brotli.Decompressor()
    out = bytearray()
    for start in range(0, len(raw), _CHUNK):
        out += decoder.process(raw[start : start + _CHUNK], output_buffer_limit=limit + 1)
        if len(out) > limit:
            return bytes(out[: limit + 1])
        while not decoder.can_accept_more_data() and len(out) <= limit:
            out += decoder.process(b"", output_buffer_limit=limit + 1)
        if len(out) > limit:
            return bytes(out[: limit + 1])
    return bytes(out)


def _zstd(raw: bytes, limit: int) -> bytes:
    return zstd.ZstdDecompressor().decompress(raw, max_length=limit + 1)


def read_reply(status: int, headers: Mapping[str, str], body: bytes | None, secrets: tuple[str, ...] = ()) -> Reply:
    """`secrets`: the request's credential, removed from the message if the gateway echoes it (wire-reference "SigV4 and
    unknown routes")."""
    parsed = safejson.json_object(body, _MAX_BODY)
    message, has_message = _message(parsed)
    if message is None and (header_message := headers.get("x-amzn-errormessage")):
        message, has_message = header_message, True
    if message:
        message = scrub(message, secrets)
    return Reply(
        status=status,
        error_type=_error_type(headers.get("x-amzn-errortype")),
        message=message,
        has_message_key=has_message,
        body_json=parsed is not None,
        body_empty=not body,
        oauth_error=_str_field(parsed, "error"),
        cognito_type=_error_type(_str_field(parsed, "__type")),
        www_authenticate=_scrubbed(parse_www_authenticate(headers.get("www-authenticate", "")), secrets),
        request_ids={name: headers[name] for name in wire.REQUEST_ID_HEADERS if name in headers},
        date=http_date(headers.get("date")),
        cors="access-control-allow-origin" in headers,
        cloudfront="x-amz-cf-id" in headers or "cloudfront" in headers.get("via", "").lower(),
        location=headers.get("location"),
        body_kind=_body_kind(parsed, body),
        cloudfront_page=_cloudfront_page(parsed, body),
        gateway_ids="x-amzn-requestid" in headers or "apigw-requestid" in headers,
    )


def _body_kind(parsed: dict | None, body: bytes | None) -> str:
    """`empty`, `message` (API Gateway's own shape: one `message`/`Message` key), `json`, `html` or `text`."""
    if not body:
        return "empty"
    if parsed is not None:
        return "message" if len(parsed) == 1 and next(iter(parsed)).lower() == "message" else "json"
    head = body[:256].lstrip().lower()
    return "html" if head.startswith((b"<!doctype html", b"<html")) else "text"


_CF_PAGE_LIMIT = 8 * 1024  # CloudFront's error page is about 900 bytes


def _cloudfront_page(parsed: dict | None, body: bytes | None) -> str | None:
    """CloudFront's own error page (wire.py): the line after its headings that names the reason, lower case."""
    if parsed is not None or not body or len(body) > _CF_PAGE_LIMIT:
        return None
    text = body.decode("latin-1").lower()
    if not all(mark in text for mark in wire.CF_PAGE_MARKS):
        return None
    _, _, after = text.partition("</h2>")
    for raw in after.splitlines():
        line = raw.replace('<hr noshade size="1px">', "").strip()
        if line:
            return line[:200]
    return ""


def _scrubbed(params: dict[str, str], secrets: tuple[str, ...]) -> dict[str, str]:
    """`error_description` and friends are wire text too: a JWT echoed there loses its signature."""
    for name, value in params.items():
        if len(value) >= 8:
            params[name] = scrub(value, secrets)
    return params


def _error_type(value: str | None) -> str | None:
    """`NotAuthorizedException:` (Cognito's trailing colon) and `Type:detail` both become `Type`."""
    if not value:
        return None
    name = value.strip().split(":", 1)[0].strip()
    return name.rsplit("#", 1)[-1] or None  # `com.amazon.coral.service#InvalidSignatureException`


def _message(parsed: dict | None) -> tuple[str | None, bool]:
    """The `message` key in any letter case: REST uses `message`, Lambda-authorizer denials `Message` (wire-reference
    "REST Lambda authorizers")."""
    if parsed is None:
        return None, False
    for key, value in parsed.items():
        if key.lower() == "message":
            return (value if isinstance(value, str) else None), True
    errors = parsed.get("errors")  # AppSync-style `{"errors":[{"message":...}]}` (wire-reference "Host names")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        value = errors[0].get("message")
        return (value if isinstance(value, str) else None), True
    return None, False


def _str_field(parsed: dict | None, key: str) -> str | None:
    value = parsed.get(key) if parsed else None
    return value if isinstance(value, str) else None


def parse_www_authenticate(value: str) -> dict[str, str]:
    """`Bearer scope="" error="invalid_token" error_description="..."` -> {"": "Bearer", "error": ...}.

    HTTP APIs separate parameters with spaces (wire-reference "HTTP JWT authorizer"); Cognito's userInfo uses commas and
    no scheme (wire-reference "Cognito OAuth").
    """
    if not value:
        return {}
    value = value[:_MAX_HEADER]
    result: dict[str, str] = {}
    words = value.strip().split(None, 1)
    if words and "=" not in words[0]:
        result[""] = words[0].rstrip(",")
    for name, param in _WWW_AUTH_PARAM.findall(value):
        result[name.lower()] = param
    return result


def http_date(value: str | None) -> float | None:
    """The `Date` header as epoch seconds (the gateway's clock), or None."""
    if not value:
        return None
    cached = _last_date.get(value)  # a busy API answers many times within the same second
    if cached is None:
        try:
            cached = parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        _last_date.clear()
        _last_date[value] = cached
    return cached


_last_date: dict[str, float] = {}
