"""The mitmproxy glue: options in, verdicts out. No logic of its own; the engine decides.

The addon never changes what is forwarded: it only sets `flow.comment`, `flow.marked` and `flow.metadata`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence

from mitmproxy import command, contentviews, ctx, flow, http, types
from mitmproxy.hooks import UpdateHook

from . import options
from .bounds import MAX_COMMENT, bound, bound_text
from .conversation import Stories, flow_fingerprint, stories
from .engine import diagnose_flow, observe_flow
from .knowledge import Knowledge
from .model import METADATA_KEY, Diagnosis
from .render import comment, comment_head, one_line
from .verdict_log import VerdictLog
from .view import ApiGwContentview

logger = logging.getLogger(__name__)


class ApiGwDoctor:
    """Diagnoses API Gateway / Cognito authorization failures as flows complete."""

    def __init__(self) -> None:
        self.knowledge = Knowledge()  # usable before configure() runs (tests, embedding)
        self.verdicts = VerdictLog()
        self.stories = Stories()  # the burst summary: failures counted by token (conversation.py)
        self._failed_once: set[str] = set()
        self._running = False  # before `running`, a refused option is mitmproxy's start-up error (one line, exit)

    def load(self, loader) -> None:
        options.declare(loader)
        contentviews.add(ApiGwContentview(lambda: self.knowledge))

    def configure(self, updated: set[str]) -> None:
        try:
            self._configure(updated)
        except options.OptionError as e:
            if self._running:  # mitmweb's Options editor shows only a red border: its event log shows this line
                logger.error(str(e))
            raise

    def _configure(self, updated: set[str]) -> None:
        if "apigw_repeat" in updated:
            repeat = ctx.options.apigw_repeat
            if repeat not in options.REPEAT_CHOICES:
                raise options.invalid("apigw_repeat", repeat, f"must be one of {', '.join(options.REPEAT_CHOICES)}")
            self.verdicts.summarise = repeat == "summarise"
        if updated & options.ENGINE_OPTION_NAMES:
            self.knowledge = options.knowledge_from(ctx.options)  # an OptionError names the option and the value

    def running(self) -> None:
        self._running = True
        unknown = options.unknown_options(ctx.options)
        for line in unknown:
            logger.error(line)  # an error at start-up: mitmdump and mitmweb exit non-zero
        if not unknown:
            logger.info(f"apigw-doctor: {describe(self.knowledge)}")

    def response(self, flow: http.HTTPFlow) -> None:
        try:
            diagnosis = observe_flow(flow, self.knowledge)
            if diagnosis is None:
                return
            annotate(flow, diagnosis)
            self.verdicts.emit(diagnosis)
            if diagnosis.lineage is not None:
                self.stories.add(flow.metadata[METADATA_KEY])
        except Exception as e:  # contain our own failures: the flow goes on untouched
            self._log_failure(flow, e)

    def done(self) -> None:
        self.verdicts.flush()
        for line in self.stories.lines(self.knowledge.lineage):
            logger.warning(f"apigw-doctor: {line}")

    def _log_failure(self, flow: http.HTTPFlow, error: Exception) -> None:
        key = type(error).__name__
        level = logging.DEBUG if key in self._failed_once else logging.ERROR
        self._failed_once.add(key)
        url = flow.request.pretty_url.split("?", 1)[0]
        logger.log(level, f"apigw-doctor: could not diagnose {flow.request.method} {url}: {key}: {error}")


def describe(knowledge: Knowledge) -> str:
    """One line for start-up: what is watched and what the user told us."""
    e = knowledge.expectations
    watched = "API Gateway, Lambda function URLs and Cognito" + (f", plus {', '.join(e.hosts)}" if e.hosts else "")
    told = [f"{name}: {', '.join(values)}" for name, values in (
        ("pools", e.issuers), ("audiences", e.audiences), ("scopes", e.scopes)) if values]  # fmt: skip
    if e.authorizer != "auto":
        told.append(f"authorizer: {e.authorizer}")
    if knowledge.keys:
        told.append("JWKS keys loaded")
    if knowledge.definitions:
        told.append(f"definition: {knowledge.definitions.describe()}")
    return f"watching {watched}; " + (
        "; ".join(told) if told else "no expectations set: verdicts rest on the token and the answer"
    )


def annotate(flow: http.HTTPFlow, diagnosis: Diagnosis) -> None:
    """Put the verdict on the flow: metadata (the contract) and the comment. No marker: `flow.marked` is the user's
    own selection (`@marked`); the verdict column and `~comment` find failures."""
    ours = flow.metadata.get(METADATA_KEY)
    kept = _comment_without_ours(flow.comment, ours)  # keep a comment someone else wrote
    text = bound_text(comment(diagnosis), MAX_COMMENT)
    flow.metadata[METADATA_KEY] = bound(diagnosis.as_metadata())  # mitmproxy must always be able to save the flow
    flow.comment = f"{kept}\n\n{text}" if kept else text
    if ours is not None and flow.marked in _OLD_MARKS:  # a flow file from a version that marked every failure
        flow.marked = ""


_OLD_MARKS = (":no_entry:", ":warning:")


def _comment_without_ours(text: str, ours: dict | None) -> str:
    """The comment minus the verdict an earlier analysis of this flow wrote (a flow file read again)."""
    if not text or not ours:
        return text
    index = -1
    for head in (
        comment_head(ours.get("cause"), ours.get("confidence"), ours.get("warnings") or ()),
        f"{ours.get('cause')} ({ours.get('confidence')}): ",
    ):  # and as earlier versions wrote it
        index = text.find(head)
        if index >= 0:
            break
    return text[:index].rstrip() if index >= 0 else text


class DoctorCommands:
    """Commands for mitmweb's command bar and the console (names: lower-case letters and dots only)."""

    def __init__(self, doctor: ApiGwDoctor) -> None:
        self.doctor = doctor

    @command.command("apigw.reanalyze")
    def reanalyze(self, flows: Sequence[flow.Flow]) -> int:
        """Diagnose the flows again with the current options; returns how many got a verdict."""
        count = 0
        for f in flows:
            if isinstance(f, http.HTTPFlow) and (diagnosis := diagnose_flow(f, self.doctor.knowledge)):
                annotate(f, diagnosis)
                count += 1
        ctx.master.addons.trigger(UpdateHook(list(flows)))
        return count

    @command.command("apigw.summary")
    def summary(self, flows: Sequence[flow.Flow]) -> str:
        """Count the verdicts among the flows, by cause."""
        counts = Counter((f.metadata[METADATA_KEY]["cause"] or "warning") for f in flows if METADATA_KEY in f.metadata)
        if not counts:
            return "no apigw-doctor verdicts among these flows"
        metas = (f.metadata[METADATA_KEY] for f in flows if METADATA_KEY in f.metadata)
        lines = stories(metas, self.doctor.knowledge.lineage)
        return "\n".join([", ".join(f"{cause}: {n}" for cause, n in counts.most_common()), *lines])

    @command.command("apigw.report")
    def report(self, flows: Sequence[flow.Flow], path: types.Path) -> str:
        """Write the HTML timeline of the flows (tokens, uses, verdicts; no secrets) to PATH; returns the path."""
        from .report.html import write_report

        knowledge = self.doctor.knowledge
        http_flows = [f for f in flows if isinstance(f, http.HTTPFlow)]
        return str(write_report(http_flows, path, lambda f: flow_fingerprint(f, knowledge)))

    @command.command("apigw.explain")
    def explain(self, flows: Sequence[flow.Flow]) -> str:
        """The verdict of each flow that has one, one line each (mitmweb shows command output as one string); the
        whole check chain is in the flow's apigw content view."""
        texts = [f"{f.request.method} {f.request.path.split('?', 1)[0]}: {one_line(f.metadata[METADATA_KEY])}"
                 for f in flows if isinstance(f, http.HTTPFlow) and METADATA_KEY in f.metadata]  # fmt: skip
        return " | ".join(texts) or "no apigw-doctor verdicts among these flows"


def make_addons() -> list:
    """The addons a `-s` script hands mitmproxy (launch.ADDON_SCRIPT); built there, never at import time."""
    from .discover_addon import ApiDiscovery
    from .evidence.addon import EvidenceExporter

    doctor = ApiGwDoctor()
    # evidence runs after the verdict is set; discovery last, as it only starts background work
    return [doctor, DoctorCommands(doctor), EvidenceExporter(), ApiDiscovery(doctor)]
