"""The mitmproxy glue: options in, verdicts out. No logic of its own; the engine decides.

The addon never changes what is forwarded: it only sets `flow.comment`, `flow.marked` and `flow.metadata`.
"""

from __future__ import annotations

import logging

from mitmproxy import exceptions, http

from . import options
from .causes import WARNINGS
from .engine import diagnose_flow, learn_from_flow
from .knowledge import Knowledge
from .model import Diagnosis
from .render import MARK_FAILURE, MARK_WARNING, comment, render_text

logger = logging.getLogger(__name__)
METADATA_KEY = "apigw_doctor"


class ApiGwDoctor:
    """Diagnoses API Gateway / Cognito authorization failures as flows complete."""

    def __init__(self) -> None:
        self.knowledge = Knowledge()  # usable before configure() runs (tests, embedding)
        self._failed_once: set[str] = set()

    def load(self, loader) -> None:
        options.declare(loader)

    def configure(self, updated: set[str]) -> None:
        if not updated & options.ENGINE_OPTION_NAMES:
            return
        from mitmproxy import ctx

        try:
            self.knowledge = Knowledge(options.expectations_from(ctx.options))
        except ValueError as e:
            raise exceptions.OptionsError(str(e)) from e

    def response(self, flow: http.HTTPFlow) -> None:
        try:
            diagnosis = diagnose_flow(flow, self.knowledge)
            if diagnosis is None:
                learn_from_flow(flow, self.knowledge)
                return
            annotate(flow, diagnosis)
        except Exception as e:  # contain our own failures: the flow goes on untouched
            self._log_failure(flow, e)
            return
        log_verdict(diagnosis)

    def _log_failure(self, flow: http.HTTPFlow, error: Exception) -> None:
        key = type(error).__name__
        level = logging.DEBUG if key in self._failed_once else logging.ERROR
        self._failed_once.add(key)
        url = flow.request.pretty_url.split("?", 1)[0]
        logger.log(level, f"apigw-doctor: could not diagnose {flow.request.method} {url}: {key}: {error}")


def annotate(flow: http.HTTPFlow, diagnosis: Diagnosis) -> None:
    """Put the verdict on the flow: metadata (the contract), the comment and a marker."""
    ours = flow.metadata.get(METADATA_KEY)
    kept = _comment_without_ours(flow.comment, ours)  # keep a comment someone else wrote
    text = comment(diagnosis)
    flow.metadata[METADATA_KEY] = diagnosis.as_metadata()
    flow.comment = f"{kept}\n\n{text}" if kept else text
    if not flow.marked or ours is not None:
        flow.marked = MARK_FAILURE if diagnosis.cause else MARK_WARNING


def _comment_without_ours(text: str, ours: dict | None) -> str:
    """The comment minus the verdict an earlier analysis of this flow wrote (a flow file read again)."""
    if not text or not ours:
        return text
    if ours.get("cause"):
        head = f"{ours['cause']} ({ours.get('confidence')}): "
    else:
        head = WARNINGS.get(next(iter(ours.get("warnings") or []), ""), "\0")
    index = text.find(head)
    return text[:index].rstrip() if index >= 0 else text


def log_verdict(diagnosis: Diagnosis) -> None:
    level = logging.WARNING if diagnosis.cause else logging.INFO
    logger.log(level, render_text(diagnosis))


addons = [ApiGwDoctor()]
