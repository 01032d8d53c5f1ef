"""`identityValidationExpression`: does the token match the authorizer's regular expression?

API Gateway runs the expression on the identity value before it calls a TOKEN authorizer (and on `aud` for a
Cognito authorizer); a mismatch is a 401 without any authorizer call (docs/design.md, "Cause catalogue"). We test
with Python's `re.fullmatch`, which is close to Java's `matches()` for the expressions people write.

The pattern comes from the user's definition, the value from the wire, and Python's `re` backtracks: a pattern
such as `^(a+)+$` takes exponential time on a hostile value. Three bounds keep the event loop free:
1. the value is capped (`MAX_VALUE` characters; longer values are not judged);
2. a pattern is classified once, when it is compiled: one with nested unbounded repetition, backreferences or
   more than two unbounded repeats could backtrack super-linearly and is only ever run under a time box;
3. the time box is a `SIGALRM` interval timer (main thread only, where mitmproxy's event loop runs): `_sre` checks
   for pending signals while it matches, so the handler's exception ends the match after `BUDGET` seconds.
   Off the main thread, a risky pattern is not run at all and the check says so.
Answers are cached per (pattern, value) in a small bounded table: clients send the same token many times.
"""

from __future__ import annotations

import re
import signal
import threading
from functools import lru_cache
from typing import Any

try:  # Python 3.11+: the parser lives in re._parser
    from re import _constants as sre_constants  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

MAX_VALUE = 8192
BUDGET = 0.05  # seconds
_MAXREPEAT = sre_constants.MAXREPEAT
_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT)
_CACHE: dict[tuple[str, str], bool | None] = {}
_CACHE_LIMIT = 1024


class _TimeUp(Exception):
    pass


def _children(op: Any, arg: Any) -> list[Any]:
    if op in _REPEATS:
        return [arg[2]]
    if op == sre_constants.SUBPATTERN:
        return [arg[-1]]
    if op == sre_constants.BRANCH:
        return list(arg[1])
    if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
        return [arg[1]]
    if op == sre_constants.GROUPREF_EXISTS:
        return [x for x in arg[1:] if x is not None]
    return []


def _walk(items: Any, depth: int = 0) -> tuple[int, bool]:
    """(count of unbounded repeats, whether the pattern can backtrack super-linearly).

    Risky: a repeat of more than one item inside an unbounded repeat, an alternation inside one, or a
    backreference anywhere; these are the shapes of catastrophic backtracking.
    """
    count, risky = 0, depth > 50
    for op, arg in items:
        if op in (sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS):
            risky = True
        if op in _REPEATS and (arg[1] == _MAXREPEAT or arg[1] > 1000):
            count += 1
            risky = risky or _has_choice(arg[2])
        for child in _children(op, arg):
            inner_count, inner_risky = _walk(child, depth + 1)
            count, risky = count + inner_count, risky or inner_risky
    return count, risky


def _has_choice(items: Any, depth: int = 0) -> bool:
    """A branch or a repeat anywhere inside: the unbounded repeat around it could split the input many ways."""
    if depth > 50:
        return True
    for op, arg in items:
        if op in (sre_constants.BRANCH, *_REPEATS, sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS):
            return True
        if any(_has_choice(child, depth + 1) for child in _children(op, arg)):
            return True
    return False


@lru_cache(maxsize=64)
def compile_expression(pattern: str) -> tuple[re.Pattern[str] | None, bool, str | None]:
    """(compiled pattern, whether it is safe to run without a time box, the compile error if any)."""
    try:
        compiled = re.compile(pattern)
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError) as e:
        return None, False, str(e)
    count, risky = _walk(list(parsed))
    return compiled, not risky and count <= 2, None


def _alarm(signum: int, frame: Any) -> None:
    if _armed.is_set():
        raise _TimeUp


_armed = threading.Event()


def _boxed(compiled: re.Pattern[str], value: str) -> bool | None:
    if threading.current_thread() is not threading.main_thread():
        return None
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        _armed.set()
        signal.setitimer(signal.ITIMER_REAL, BUDGET)
        try:
            return compiled.fullmatch(value) is not None
        finally:
            _armed.clear()  # first disarm, then stop the timer: a late signal is then ignored
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _TimeUp:
        return None
    finally:
        signal.signal(signal.SIGALRM, previous)


def matches(pattern: str, value: str) -> tuple[bool | None, str]:
    """(True/False, "") when judged; (None, why not) when the value is too long or the pattern ran out of time."""
    if len(value) > MAX_VALUE:
        return None, f"not checked: the value is longer than {MAX_VALUE} characters"
    key = (pattern, value)
    if key in _CACHE:
        found = _CACHE[key]
        return found, "" if found is not None else "not checked: the expression took too long on this value"
    compiled, safe, error = compile_expression(pattern)
    if compiled is None:
        return None, f"not checked: the expression does not compile in Python ({error})"
    result = (compiled.fullmatch(value) is not None) if safe else _boxed(compiled, value)
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[key] = result
    return result, "" if result is not None else "not checked: the expression took too long on this value"
