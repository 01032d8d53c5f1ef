"""mitmproxy glue for evidence: the `apigw_evidence_dir` option and the `apigw.evidence` / `apigw.har` commands.

Place `EvidenceExporter` after the engine addon: it reads `flow.metadata["apigw_doctor"]`, which the engine sets in
the same `response`/`error` hook.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from collections import deque
from collections.abc import Awaitable, Sequence
from pathlib import Path

from mitmproxy import command, ctx, exceptions, flow, http, types
from mitmproxy.log import ALERT

from .bundle import write_bundle, write_bundles
from .har import write_har
from .redact import METADATA_KEY

logger = logging.getLogger(__name__)

OPTION = "apigw_evidence_dir"
_REMEMBERED = 4096  # flow ids already exported; a flow can see `response` and then `error`


class EvidenceExporter:
    def __init__(self) -> None:
        self.directory: Path | None = None
        self._done: set[str] = set()
        self._order: deque[str] = deque()

    def load(self, loader) -> None:
        loader.add_option(
            OPTION,
            str | None,
            None,
            "Write a redacted evidence bundle (report.md, report.json, flows.har) into this directory "
            "for every flow apigw-doctor diagnosed as failed.",
        )

    def configure(self, updated: set[str]) -> None:
        if OPTION not in updated:
            return
        value = getattr(ctx.options, OPTION)
        if not value:
            self.directory = None
            return
        path = Path(value).expanduser()
        try:
            path.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=path):  # proves we can create files here, not just that bits say so
                pass
        except OSError as e:
            raise exceptions.OptionsError(f"{OPTION}: cannot write to {path}: {e.strerror or e}") from e
        self.directory = path

    # The hooks are sync and return an awaitable only when there is a bundle to write (mitmproxy awaits what a hook
    # returns): every other flow costs one dict lookup, not a coroutine. The writing runs in a worker thread
    # (`asyncio.to_thread`), so the event loop never waits on the disk; awaiting it holds only this one flow, and
    # guarantees the bundle exists before mitmdump exits after `-r`, without an async `done` (which would break
    # script reloads).
    def response(self, f: http.HTTPFlow) -> Awaitable[None] | None:
        return self._export(f) if self._wants(f) else None

    def error(self, f: http.HTTPFlow) -> Awaitable[None] | None:
        return self._export(f) if self._wants(f) else None

    def _wants(self, f: http.HTTPFlow) -> bool:
        if self.directory is None:
            return False
        meta = f.metadata.get(METADATA_KEY)
        return isinstance(meta, dict) and bool(meta.get("cause")) and f.id not in self._done

    async def _export(self, f: http.HTTPFlow) -> None:
        directory = self.directory
        if directory is None:
            return
        try:
            self._remember(f.id)
            # Copy on the loop thread, so the worker never reads a flow another addon may be changing.
            snapshot = f.copy()
            snapshot.id = f.id
            path = await asyncio.to_thread(write_bundle, snapshot, directory)
            logger.info(f"apigw-doctor: evidence written to {path}")
        except Exception as e:  # never raise out of a hook: one line, and the flow goes on
            logger.warning(f"apigw-doctor: could not write evidence for flow {f.id[:8]}: {type(e).__name__}: {e}")

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
            out = write_bundles(http_flows, os.path.expanduser(path))
        except OSError as e:
            raise exceptions.CommandError(f"apigw.evidence: {e}") from e
        logger.log(ALERT, f"apigw-doctor: evidence for {len(http_flows)} flow(s) written to {out}")
        return str(out)

    @command.command("apigw.har")
    def har(self, flows: Sequence[flow.Flow], path: types.Path) -> str:
        """Export the chosen flows as a redacted HAR 1.2 file, with each verdict in the entry comment."""
        try:
            out = write_har(flows, os.path.expanduser(path))
        except OSError as e:
            raise exceptions.CommandError(f"apigw.har: {e}") from e
        logger.log(ALERT, f"apigw-doctor: redacted HAR written to {out}")
        return str(out)
