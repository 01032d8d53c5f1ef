"""The terminal side of the addon: one readable verdict per story, not per flow.

A client retrying in a loop, a load test against a misconfigured API, or an app walking `/orders/1`, `/orders/2`,
... fails the same way thousands of times. A story is one verdict (cause, confidence, warnings, status) for one
method on one route template: numeric ids, UUIDs and long hex runs in the path count as the same `{id}`. The first
flow of a story prints in full at once; the repeats are counted, and a "N more times" line follows at least every
`SUMMARY_INTERVAL` seconds while they continue, and at exit. Nothing waits for that line: the next verdict writes it
when it is due, else a timer on mitmproxy's event loop does. Every flow is still annotated; only the terminal is
spared, and so is mitmproxy, whose log dispatch costs about 300 µs per record, more than a diagnosis.
`apigw_repeat=all` (`summarise = False`) prints every verdict.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from .model import Diagnosis
from .render import render_text

logger = logging.getLogger("apigw_doctor.addon")  # the addon's one voice in the terminal
SUMMARY_INTERVAL = 5.0  # seconds between "N more times" lines while a story goes on
STORY_GAP = 60.0  # a story quiet this long is over: its next flow prints in full again
MAX_STORIES = 512  # oldest stories are forgotten (after their count is printed) beyond this

# One path segment that is an id: digits, a UUID, or 16+ hex digits. Segments are split first, so this is linear.
_ID_SEGMENT = re.compile(r"\d+|[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}|[0-9a-fA-F]{16,}")


def route_template(path: str) -> str:
    """`/prod/orders/123/items/9f1c...` -> `/prod/orders/{id}/items/{id}` (the query is not part of a route)."""
    path = path.split("?", 1)[0][:2048]
    return "/".join("{id}" if _ID_SEGMENT.fullmatch(seg) else seg for seg in path.split("/"))


@dataclass(slots=True)
class _Story:
    headline: str  # how the summary line names the story
    last_seen: float
    pending: int = 0  # repeats not yet reported
    since: float = 0.0  # when the first unreported repeat came


class VerdictLog:
    def __init__(self, clock: Callable[[], float] = time.monotonic, interval: float = SUMMARY_INTERVAL) -> None:
        self.summarise = True  # apigw_repeat=all: every verdict in full
        self._clock = clock
        self._interval = interval
        self._stories: OrderedDict[tuple, _Story] = OrderedDict()
        self._timer: asyncio.TimerHandle | None = None
        self._next_due = float("inf")  # the earliest a pending count is due: the hot path checks only this

    def emit(self, diagnosis: Diagnosis) -> None:
        if not self.summarise:
            _log_full(diagnosis)
            return
        now = self._clock()
        template = route_template(diagnosis.path)
        key = (diagnosis.cause, diagnosis.confidence, diagnosis.warnings, diagnosis.status, diagnosis.method, template)
        story = self._stories.get(key)
        if story is None or now - story.last_seen > STORY_GAP:
            if story is not None:
                self._report(story)
            self._stories[key] = _Story(_what(diagnosis, template), now)
            self._stories.move_to_end(key)
            self._forget_oldest()
            _log_full(diagnosis)
        else:
            story.last_seen = now
            if not story.pending:
                story.since = now
                self._next_due = min(self._next_due, now + self._interval)
            story.pending += 1
            self._stories.move_to_end(key)
            self._schedule()
        self._report_due(now)

    def flush(self) -> None:
        """Report every count not yet printed (at exit, and when the options change)."""
        for story in self._stories.values():
            self._report(story)
        self._next_due = float("inf")
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _report_due(self, now: float) -> None:
        if now < self._next_due:
            return
        self._next_due = float("inf")
        for story in self._stories.values():
            if story.pending and now - story.since >= self._interval:
                self._report(story, now)
            elif story.pending:
                self._next_due = min(self._next_due, story.since + self._interval)

    def _report(self, story: _Story, now: float | None = None) -> None:
        if not story.pending:
            return
        times = "time" if story.pending == 1 else "times"
        seconds = (now if now is not None else self._clock()) - story.since
        logger.info(f"{story.headline}: the same verdict {story.pending} more {times} (in {seconds:.0f} s)")
        story.pending = 0

    def _forget_oldest(self) -> None:
        while len(self._stories) > MAX_STORIES:
            _, story = self._stories.popitem(last=False)
            self._report(story)

    def _schedule(self) -> None:
        """A timer on mitmproxy's event loop reports the counts when no further verdict comes to do it."""
        if self._timer is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # offline analysis, unit tests: the next verdict or flush() reports
            return
        self._timer = loop.call_later(self._interval, self._tick)

    def _tick(self) -> None:
        self._timer = None
        try:
            self._report_due(self._clock())
        except Exception:  # never raise into the event loop
            logger.debug("apigw-doctor: repeat summary failed", exc_info=True)
        if any(story.pending for story in self._stories.values()):
            self._schedule()


def _what(d: Diagnosis, template: str) -> str:
    what = f"{d.cause} ({d.confidence})" if d.cause else "warning: " + ", ".join(d.warnings)
    return f"{d.status} {d.method} {template}  {what}"


def _log_full(diagnosis: Diagnosis) -> None:
    level = logging.WARNING if diagnosis.cause else logging.INFO
    logger.log(level, "%s", _Rendered(diagnosis))


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
