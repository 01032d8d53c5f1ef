"""UTC times and durations as people read them in a verdict."""

from __future__ import annotations

import time
from functools import lru_cache


@lru_cache(maxsize=1024)  # the same exp, iat and Date recur across a client's retries
def utc(epoch: float) -> str:
    """`2026-11-26T22:40:00Z`; out-of-range values are shown as the raw number."""
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
    except (OverflowError, OSError, ValueError):
        return str(epoch)


@lru_cache(maxsize=1024)
def clock(epoch: float) -> str:
    """`22:40:00Z`, for lines where the date is already clear."""
    try:
        return time.strftime("%H:%M:%SZ", time.gmtime(epoch))
    except (OverflowError, OSError, ValueError):
        return str(epoch)


def ago(seconds: float) -> str:
    """A duration: `4 s`, `3 min 12 s`, `2 h 5 min`, `3 d 4 h`."""
    seconds = abs(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
