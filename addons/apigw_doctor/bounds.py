"""Bounds for every value the addon puts on a flow or into an export: depth, string length, list length, total size.

A hostile or buggy backend can answer with JSON nested thousands of levels deep, and a token can carry such claims.
Copied whole into `flow.metadata`, that breaks mitmproxy's own `get_state` deepcopy when the flow is saved (`-w`),
and every flow after it is lost. So anything larger than the bounds is summarised ("…41 more levels"), never copied.
The metadata, the comment, the evidence bundle and the HAR export all go through `bound`.

Every string that leaves through here also loses terminal control characters (ANSI/OSC escapes in claim values).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import Diagnosis

MAX_DEPTH = 8
MAX_STRING = 2048
MAX_ITEMS = 64
MAX_TOTAL = 16 * 1024
MAX_COMMENT = 8 * 1024

# C0 controls except tab and newline, DEL, and the C1 range (0x9b is a one-byte CSI on some terminals).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROLS_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_DEPTH_SCAN_LIMIT = 100_000  # nodes looked at to count the levels left out; beyond that, "at least"


def printable(text: str, *, one_line: bool = False) -> str:
    """`text` without terminal control characters (escape sequences then show as harmless text)."""
    pattern = _CONTROLS_ONE_LINE if one_line else _CONTROLS
    return pattern.sub(lambda m: f"\\x{ord(m.group(0)):02x}" if not one_line else " ", text)


def printable_diagnosis(d: Diagnosis | None) -> Diagnosis | None:
    """The verdict with no terminal control characters in any text a renderer prints (claim values, paths and
    messages from the wire reach the evidence lines and check values). A clean verdict is returned as it is."""
    if d is None:
        return None
    texts = (d.title, d.summary, d.path, *d.evidence, *d.fix)
    findings = [(f.expected or "") + (f.actual or "") + f.note for f in d.checks]
    if not any(_CONTROLS.search(t) for t in (*texts, *findings)):
        return d
    checks = tuple(
        replace(
            f,
            expected=None if f.expected is None else printable(f.expected),
            actual=None if f.actual is None else printable(f.actual),
            note=printable(f.note),
        )
        for f in d.checks
    )
    return replace(
        d,
        title=printable(d.title),
        summary=printable(d.summary),
        path=printable(d.path, one_line=True),
        evidence=tuple(printable(t) for t in d.evidence),
        fix=tuple(printable(t) for t in d.fix),
        checks=checks,
    )


def bound_text(text: str, limit: int = MAX_STRING, *, one_line: bool = False) -> str:
    """At most `limit` characters (plus a note of what was cut), without control characters."""
    if len(text) > limit:
        text = f"{text[:limit]}…({len(text) - limit} more characters)"
    return printable(text, one_line=one_line)


def bound(
    value: Any,
    *,
    depth: int = MAX_DEPTH,
    string: int = MAX_STRING,
    items: int = MAX_ITEMS,
    total: int = MAX_TOTAL,
) -> Any:
    """A JSON-like copy of `value` within the bounds; never recurses deeper than `depth`."""
    return _Bounder(depth, string, items, total).copy(value, 0)


def levels(value: Any) -> int:
    """How deep `value` nests (1 for a scalar), counted without recursion; stops after a fixed number of nodes."""
    deepest, seen = 0, 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack and seen < _DEPTH_SCAN_LIMIT:
        node, level = stack.pop()
        seen += 1
        deepest = max(deepest, level)
        if isinstance(node, dict):
            stack.extend((v, level + 1) for v in node.values())
        elif isinstance(node, list | tuple):
            stack.extend((v, level + 1) for v in node)
    return deepest


class _Bounder:
    __slots__ = ("budget", "depth", "items", "string")

    def __init__(self, depth: int, string: int, items: int, total: int) -> None:
        self.depth, self.string, self.items, self.budget = depth, string, items, total

    def copy(self, value: Any, level: int) -> Any:
        if value is None or isinstance(value, bool):
            self.budget -= 5
            return value
        if isinstance(value, int | float):
            self.budget -= 8
            return value
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, dict | list | tuple):
            if level + 1 >= self.depth:  # its members would sit one level deeper than allowed
                self.budget -= 24
                return f"…{levels(value)} more levels"
            return self._dict(value, level) if isinstance(value, dict) else self._list(value, level)
        return self._text(str(value))

    def _text(self, value: str) -> str:
        limit = max(0, min(self.string, self.budget))
        text = bound_text(value, limit) if len(value) > limit else printable(value)
        self.budget -= len(text) + 2
        return text

    def _dict(self, value: dict, level: int) -> dict:
        out: dict[str, Any] = {}
        for i, (key, item) in enumerate(value.items()):
            if i >= self.items or self.budget <= 0:
                out["…"] = f"{len(value) - i} more keys"
                break
            out[self._text(str(key))] = self.copy(item, level + 1)
        return out

    def _list(self, value: list | tuple, level: int) -> list:
        out: list[Any] = []
        for i, item in enumerate(value):
            if i >= self.items or self.budget <= 0:
                out.append(f"…{len(value) - i} more items")
                break
            out.append(self.copy(item, level + 1))
        return out
