"""The terminal side of the addon: one readable verdict per failure, and no flood when the same failure repeats.

A client retrying in a loop, or a load test against a misconfigured API, fails the same way thousands of times.
The first failure prints in full; identical ones that follow (same verdict for the same method and path) are
counted and summed up in one line when something else happens, after `REPEAT_WINDOW` seconds, or at exit. Every
flow is still annotated; only the terminal is spared. It also spares mitmproxy, for which each log record costs
more than a diagnosis.
"""

from __future__ import annotations

import logging
import time

from .model import Diagnosis
from .render import render_text

logger = logging.getLogger("apigw_doctor.addon")  # the addon's one voice in the terminal
REPEAT_WINDOW = 30.0  # seconds


class VerdictLog:
    def __init__(self) -> None:
        self.summarise = True  # apigw_repeat=all: every verdict in full
        self._last: tuple | None = None
        self._since = 0.0
        self._repeats = 0

    def emit(self, diagnosis: Diagnosis) -> None:
        key = (diagnosis.cause, diagnosis.confidence, diagnosis.warnings, diagnosis.status, diagnosis.method,
               diagnosis.path)  # fmt: skip
        now = time.monotonic()
        if self.summarise and key == self._last and now - self._since < REPEAT_WINDOW:
            self._repeats += 1
            return
        self.flush()
        self._last, self._since = key, now
        level = logging.WARNING if diagnosis.cause else logging.INFO
        logger.log(level, "%s", _Rendered(diagnosis))

    def flush(self) -> None:
        """Say how many identical verdicts were not printed (called when another verdict comes, and at exit)."""
        if not self._repeats or self._last is None:
            return
        cause, confidence, warnings, status, method, path = self._last
        what = f"{cause} ({confidence})" if cause else "warning: " + ", ".join(warnings)
        times = "time" if self._repeats == 1 else "times"
        logger.info(f"{status} {method} {path}  {what}: the same verdict {self._repeats} more {times}")
        self._repeats = 0


class _Rendered:
    """Renders the verdict when a log handler formats it, once: mitmproxy formats each record up to twice."""

    __slots__ = ("_diagnosis", "_text")

    def __init__(self, diagnosis: Diagnosis) -> None:
        self._diagnosis = diagnosis
        self._text: str | None = None

    def __str__(self) -> str:
        # Formatting happens inside the logging machinery, outside the hook's guard: never raise from here.
        if self._text is None:
            try:
                self._text = render_text(self._diagnosis)
            except Exception as e:
                d = self._diagnosis
                self._text = f"{d.status} {d.method} {d.path}  {d.cause} (verdict text failed: {type(e).__name__})"
        return self._text
