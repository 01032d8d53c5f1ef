"""Pipeline step 4, Reply: the gateway's signals, normalised (REF §0 for which header means what)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from . import safejson, wire
from .model import Reply
from .tokens import scrub

_MAX_BODY = 64 * 1024  # gateway error bodies are tiny; never parse a large payload
_WWW_AUTH_PARAM = re.compile(r'([A-Za-z_]+)\s*=\s*"([^"]*)"')


def read_reply(status: int, headers: Mapping[str, str], body: bytes | None, secrets: tuple[str, ...] = ()) -> Reply:
    """`secrets`: the request's credential, removed from the message if the gateway echoes it (REF §4)."""
    parsed = _parse_json_body(body)
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
        www_authenticate=parse_www_authenticate(headers.get("www-authenticate", "")),
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


def _error_type(value: str | None) -> str | None:
    """`NotAuthorizedException:` (Cognito's trailing colon) and `Type:detail` both become `Type`."""
    if not value:
        return None
    name = value.strip().split(":", 1)[0].strip()
    return name.rsplit("#", 1)[-1] or None  # `com.amazon.coral.service#InvalidSignatureException`


def _parse_json_body(body: bytes | None) -> dict | None:
    if not body or len(body) > _MAX_BODY or body.lstrip()[:1] != b"{":
        return None
    try:
        parsed = safejson.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _message(parsed: dict | None) -> tuple[str | None, bool]:
    """The `message` key in any letter case: REST uses `message`, Lambda-authorizer denials `Message` (REF §3a)."""
    if parsed is None:
        return None, False
    for key, value in parsed.items():
        if key.lower() == "message":
            return (value if isinstance(value, str) else None), True
    errors = parsed.get("errors")  # AppSync-style `{"errors":[{"message":...}]}` (REF §9)
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        value = errors[0].get("message")
        return (value if isinstance(value, str) else None), True
    return None, False


def _str_field(parsed: dict | None, key: str) -> str | None:
    value = parsed.get(key) if parsed else None
    return value if isinstance(value, str) else None


def parse_www_authenticate(value: str) -> dict[str, str]:
    """`Bearer scope="" error="invalid_token" error_description="..."` -> {"": "Bearer", "error": ...}.

    HTTP APIs separate parameters with spaces (REF §2); Cognito's userInfo uses commas and no scheme (REF §7a).
    """
    if not value:
        return {}
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
