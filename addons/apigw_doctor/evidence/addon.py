"""mitmproxy glue for evidence: the `apigw_evidence_*` options and the `apigw.evidence` / `apigw.har` commands.

Place `EvidenceExporter` after the engine addon: it reads `flow.metadata["apigw_doctor"]`, which the engine sets in
the same `response`/`error` hook.

Bundles are written off the event loop by one worker thread fed through a bounded queue. The hook only copies the
flow and queues it, so the client gets its response at once. A full queue drops the bundle (counted, and said at
`done`), never the verdict, which is already on the flow. `done` drains the queue within a time limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import queue
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

from mitmproxy import command, ctx, exceptions, flow, http, types
from mitmproxy.log import ALERT

from ..bounds import bound_text
from ..options import check_deferred, invalid
from .bundle import tree_size, write_bundle, write_bundles
from .har import write_har
from .redact import METADATA_KEY

logger = logging.getLogger(__name__)

OPTION = "apigw_evidence_dir"
MAX_MB_OPTION = "apigw_evidence_max_mb"
PERSONAL_OPTION = "apigw_redact_personal"
_REMEMBERED = 4096  # flow ids already exported; a flow can see `response` and then `error`
QUEUE_SIZE = 256  # bundles waiting for the worker; beyond that they are dropped and counted
DRAIN_SECONDS = 3.0  # how long `done` waits for queued bundles: mitmdump must exit promptly on SIGTERM
# The worker shares the interpreter lock with the event loop, so it writes in the gaps between flows: it waits until
# no flow has been seen for QUIET_SECONDS, but never defers a bundle longer than MAX_DEFER_SECONDS.
QUIET_SECONDS = 0.004
MAX_DEFER_SECONDS = 0.5
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


class BundleWriter:
    """One worker thread writing queued flow copies as bundles; it never touches a flow the proxy still holds."""

    def __init__(
        self, directory: Path, *, max_bytes: int | None, personal: bool, say: Callable[[int, str], None]
    ) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.personal = personal
        self.say = say  # (level, message), delivered on the event loop
        self.queue: queue.Queue[dict | None] = queue.Queue(QUEUE_SIZE)  # flow states (`get_state`)
        self.dropped = 0
        self.written = 0
        self.failed = 0
        self.stopped: str | None = None  # why writing stopped for good (disk full, size cap)
        self._bytes = tree_size(directory) if max_bytes is not None else 0
        self._abandon = threading.Event()
        self._draining = False
        self.last_activity = 0.0  # time.monotonic() of the last flow the proxy handled
        self._thread = threading.Thread(target=self._run, name="apigw-evidence", daemon=True)
        self._thread.start()

    def submit(self, snapshot: dict) -> bool:
        if self.stopped is not None:
            self.dropped += 1
            return False
        try:
            self.queue.put_nowait(snapshot)
        except queue.Full:
            self.dropped += 1
            return False
        return True

    def close(self, timeout: float = DRAIN_SECONDS) -> int:
        """Write what is queued, for at most `timeout` seconds; returns how many bundles were left unwritten."""
        deadline = time.monotonic() + timeout
        self._draining = True
        while True:  # the sentinel must go in even when the queue is full
            try:
                self.queue.put(None, timeout=max(0.01, deadline - time.monotonic()))
                break
            except queue.Full:
                if time.monotonic() >= deadline:
                    break
        self._thread.join(max(0.0, deadline - time.monotonic()))
        self._abandon.set()
        return 0 if not self._thread.is_alive() else self.queue.qsize() + 1

    def _run(self) -> None:
        while not self._abandon.is_set():
            item = self.queue.get()
            if item is None:
                return
            if self.stopped is not None:
                self.dropped += 1
                continue
            self._wait_for_a_gap()
            self._write(item)

    def _pause(self) -> None:
        """Between the steps of a bundle: give the interpreter lock back, and wait again if a flow came in."""
        if time.monotonic() - self.last_activity < QUIET_SECONDS:
            self._wait_for_a_gap()
        else:
            time.sleep(0)

    def _wait_for_a_gap(self) -> None:
        give_up = time.monotonic() + MAX_DEFER_SECONDS
        while not self._draining and time.monotonic() < give_up:
            idle = time.monotonic() - self.last_activity
            if idle >= QUIET_SECONDS:
                return
            time.sleep(QUIET_SECONDS - idle)

    def _write(self, state: dict) -> None:
        try:
            snapshot = http.HTTPFlow.from_state(state)  # the rebuild half of `flow.copy()`, off the event loop
            path = write_bundle(snapshot, self.directory, personal=self.personal, pause=self._pause)
        except OSError as e:
            snapshot = _Named(state)
            if e.errno in _DISK_FULL:
                self.stopped = f"the disk is full ({e.strerror}); no more evidence is written"
                self.say(logging.WARNING, f"apigw-doctor: {self.stopped}")
                return
            self.failed += 1
            self.say(logging.WARNING, _could_not(snapshot, e))
            return
        except Exception as e:  # never let the worker die: one line, and the next bundle goes on
            self.failed += 1
            self.say(logging.WARNING, _could_not(_Named(state), e))
            return
        self.written += 1
        # One line for the first bundle, then only at debug level: a line per failing flow is noise (and log
        # dispatch costs the event loop); `done` says how many were written.
        self.say(logging.INFO if self.written == 1 else logging.DEBUG, f"apigw-doctor: evidence written to {path}")
        if self.max_bytes is not None:
            self._bytes += tree_size(path)
            if self._bytes >= self.max_bytes:
                self.stopped = f"the evidence directory reached {MAX_MB_OPTION} ({self.max_bytes // 2**20} MB)"
                self.say(logging.WARNING, f"apigw-doctor: {self.stopped}; no more evidence is written")


class _Named:
    """The id of a flow state, for a message."""

    def __init__(self, state: dict) -> None:
        self.id = str(state.get("id", "?"))


def _could_not(f: http.HTTPFlow | _Named, e: Exception) -> str:
    reason = bound_text(f"{type(e).__name__}: {e}", 300, one_line=True)
    return f"apigw-doctor: could not write evidence for flow {f.id[:8]}: {reason}"


def declare(loader) -> None:
    """The evidence options, on a mitmproxy loader or an OptManager (`analyze --set` accepts them too)."""
    loader.add_option(
        OPTION,
        str | None,
        None,
        "Write a redacted evidence bundle (report.md, report.json, flows.har) into this directory "
        "for every flow apigw-doctor diagnosed as failed.",
    )
    loader.add_option(
        MAX_MB_OPTION, int, 0, f"Stop writing evidence bundles once {OPTION} holds this many megabytes (0: no limit)."
    )
    loader.add_option(
        PERSONAL_OPTION,
        bool,
        False,
        "In evidence bundles and HAR exports, also replace the personal claims of tokens (email, "
        "phone_number, cognito:username, name) with REDACTED: for tickets that leave the team.",
    )


class EvidenceExporter:
    def __init__(self) -> None:
        self.directory: Path | None = None
        self.writer: BundleWriter | None = None
        self._done: set[str] = set()
        self._order: deque[str] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._messages: deque[tuple[int, str]] = deque(maxlen=1000)  # from the worker, logged on the loop

    def load(self, loader) -> None:
        declare(loader)
        check_deferred(loader.master.options, (OPTION, MAX_MB_OPTION, PERSONAL_OPTION))  # one line, not a silent drop

    def configure(self, updated: set[str]) -> None:
        if not updated & {OPTION, MAX_MB_OPTION, PERSONAL_OPTION}:
            return
        max_mb = getattr(ctx.options, MAX_MB_OPTION)
        if max_mb < 0:
            raise invalid(MAX_MB_OPTION, max_mb, "must be 0 (no limit) or a number of megabytes")
        value = getattr(ctx.options, OPTION)
        self._close()
        if not value:
            self.directory = None
            return
        path = Path(value).expanduser()
        try:
            path.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=path):  # proves we can create files here, not just that bits say so
                pass
        except OSError as e:
            raise invalid(OPTION, value, f"cannot write to {path}: {e.strerror or e}") from e
        self.directory = path
        self.writer = BundleWriter(
            path, max_bytes=max_mb * 2**20 or None, personal=getattr(ctx.options, PERSONAL_OPTION), say=self._say
        )

    # The hooks are sync: they copy the flow on the loop thread (so the worker never reads a flow another addon
    # may be changing) and queue it. Nothing is awaited, so no response waits for the disk.
    def response(self, f: http.HTTPFlow) -> None:
        if self.writer is not None:
            self.writer.last_activity = time.monotonic()
            if self._wants(f):
                self._queue(f)

    def error(self, f: http.HTTPFlow) -> None:
        if self._wants(f):
            self._queue(f)

    def done(self) -> None:
        self._close()
        self._flush()

    def _close(self) -> None:
        writer, self.writer = self.writer, None
        if writer is None:
            return
        left = writer.close()
        self._flush()
        if writer.written > 1:
            logger.info(f"apigw-doctor: {writer.written} evidence bundle(s) written to {writer.directory}")
        if left:
            logger.warning(
                f"apigw-doctor: {left} evidence bundle(s) not written: the {DRAIN_SECONDS:.0f} s limit passed"
            )
        if writer.dropped:
            logger.warning(
                f"apigw-doctor: {writer.dropped} evidence bundle(s) dropped "
                f"({writer.stopped or 'the writer could not keep up'}); the verdicts are on the flows"
            )

    def _wants(self, f: http.HTTPFlow) -> bool:
        if self.writer is None:
            return False
        meta = f.metadata.get(METADATA_KEY)
        return isinstance(meta, dict) and bool(meta.get("cause")) and f.id not in self._done

    def _queue(self, f: http.HTTPFlow) -> None:
        writer = self.writer
        if writer is None:
            return
        try:
            if self._loop is None:
                self._loop = asyncio.get_running_loop()
        except RuntimeError:
            pass
        self._remember(f.id)
        try:
            snapshot = f.get_state()  # a deep copy of the flow's data, taken on the loop; rebuilt in the worker
        except Exception as e:  # never raise out of a hook: one line, and the flow goes on
            logger.warning(_could_not(f, e))
            return
        writer.submit(snapshot)

    def _say(self, level: int, message: str) -> None:
        """From the worker thread: logged on the event loop, where mitmproxy's log handlers run (or at `done`)."""
        self._messages.append((level, message))
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile; `done` logs what is left
                loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        while self._messages:
            level, message = self._messages.popleft()
            logger.log(level, message)

    def _remember(self, flow_id: str) -> None:
        self._done.add(flow_id)
        self._order.append(flow_id)
        while len(self._order) > _REMEMBERED:
            self._done.discard(self._order.popleft())

    # Commands are sync in mitmproxy, so these write on the loop thread; they run on a user's request only.
    @command.command("apigw.evidence")
    def evidence(self, flows: Sequence[flow.Flow], path: types.Path) -> str:
        """Write a redacted evidence bundle (one report per flow, an index and a combined HAR) under a directory."""
        http_flows = [f for f in flows if isinstance(f, http.HTTPFlow)]
        if not http_flows:
            raise exceptions.CommandError("apigw.evidence: no HTTP flows selected")
        try:
            out = write_bundles(http_flows, os.path.expanduser(path), personal=self._personal())
        except OSError as e:
            raise exceptions.CommandError(f"apigw.evidence: {e}") from e
        for skipped in out.skipped:
            logger.warning(f"apigw-doctor: apigw.evidence: {skipped}")
        logger.log(ALERT, f"apigw-doctor: evidence for {out.count} flow(s) written to {out.root}")
        return str(out.root)

    @command.command("apigw.har")
    def har(self, flows: Sequence[flow.Flow], path: types.Path) -> str:
        """Export the chosen flows as a redacted HAR 1.2 file, with each verdict in the entry comment."""
        try:
            out, skipped = write_har(flows, os.path.expanduser(path), personal=self._personal())
        except OSError as e:
            raise exceptions.CommandError(f"apigw.har: {e}") from e
        for s in skipped:
            logger.warning(f"apigw-doctor: apigw.har: {s}")
        logger.log(ALERT, f"apigw-doctor: redacted HAR written to {out}")
        return str(out)

    @staticmethod
    def _personal() -> bool:
        return bool(getattr(ctx.options, PERSONAL_OPTION, False))
