"""JSON and text from untrusted bytes, made safe to store: flow files (tnetstring) and strict JSON must accept them.

Hostile tokens and bodies carry `NaN`, `Infinity`, 400-digit numbers and lone UTF-16 surrogates (`"\\ud800"`);
each would later break arithmetic on claims, or saving the flow with `-w`.
"""

from __future__ import annotations

import json
import math
from typing import Any

_MAX_INT_DIGITS = 18  # epoch seconds need 10; anything near 10**18 is not a time


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON for a token or a gateway body")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise ValueError("number too large")
    return int(text)


def loads(raw: bytes) -> Any:
    """`json.loads` that rejects non-finite and absurd numbers and cleans lone surrogates; raises ValueError."""
    value = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_bounded_int)
    return clean(value) if b"\\u" in raw else value  # only escapes can produce lone surrogates


def json_object(raw: bytes | None, limit: int) -> dict | None:
    """A small JSON object from an untrusted body, or None: empty, larger than `limit`, not an object, or not JSON."""
    if not raw or len(raw) > limit or raw.lstrip()[:1] != b"{":
        return None
    try:
        parsed = loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return parsed if isinstance(parsed, dict) else None


def clean_text(text: str) -> str:
    """Text that encodes as UTF-8: lone surrogates become visible `\\udc80` escapes."""
    return text if text.isascii() else text.encode("utf-8", "backslashreplace").decode("utf-8")


def clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value
