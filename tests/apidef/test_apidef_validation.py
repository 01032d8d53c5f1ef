"""identityValidationExpression: Python fullmatch, never a stalled event loop."""

from __future__ import annotations

import time

from apigw_doctor.apidef.validation import MAX_VALUE, compile_expression, matches


def test_typical_expressions_are_judged_with_fullmatch():
    assert matches(r"^Bearer [-0-9a-zA-Z\._]*$", "Bearer eyJ.abc.def") == (True, "")
    assert matches(r"^Bearer [-0-9a-zA-Z\._]*$", "eyJ.abc.def") == (False, "")
    assert matches(r"^x-[a-z]+", "x-abc9") == (False, "")  # fullmatch: the whole value must match


def test_backtracking_patterns_are_recognised_and_time_boxed():
    for pattern in (r"^(a+)+$", r"^(a|aa)+$", r"(\w+\s?)*$", r"^(x)\1$"):
        assert compile_expression(pattern)[1] is False, pattern
    started = time.monotonic()
    result, note = matches(r"^(a|aa)+$", "a" * 5000 + "b")
    assert result is None and "too long" in note
    assert time.monotonic() - started < 5  # without the box this runs for hours


def test_overlong_values_and_broken_patterns_are_not_judged():
    assert matches(r"^a*$", "a" * (MAX_VALUE + 1))[0] is None
    result, note = matches(r"^(unclosed$", "x")
    assert result is None and "does not compile" in note
