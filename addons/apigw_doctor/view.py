"""The `apigw` content view: the decoded token and the check chain, for mitmweb and the console.

Content views render bodies, and the token lives in a header, so the view reads the flow (as mitmproxy's Query
view reads the URL) and ranks itself first for body-less requests that carry a token (docs/design.md, "Living inside
mitmproxy 12").
"""

from __future__ import annotations

from typing import Any

from mitmproxy import contentviews, ctx, http

from .definition_rules import describe_expectations
from .knowledge import Knowledge
from .model import METADATA_KEY, Token
from .reading import read_flow, read_request
from .timefmt import ago, utc

_TIME_CLAIMS = ("iat", "auth_time", "nbf", "exp")


class ApiGwContentview(contentviews.Contentview):
    syntax_highlight = "yaml"

    def __init__(self, knowledge: Any) -> None:
        self._knowledge = knowledge  # a callable returning the addon's current Knowledge

    @property
    def name(self) -> str:
        return "apigw"

    def render_priority(self, data: bytes, metadata: contentviews.Metadata) -> float:
        flow = metadata.flow
        if not isinstance(flow, http.HTTPFlow):
            return -1
        _follow_focus(flow)
        if isinstance(metadata.http_message, http.Response):
            # The user looks at the 401 body: the verdict belongs beside it (the body is shown below it).
            return 1.5 if METADATA_KEY in flow.metadata else -1
        if not isinstance(metadata.http_message, http.Request) or data:
            return -1
        reading = read_request(flow, self._knowledge())
        if reading is None:
            return -1
        return 1.5 if reading.credential.kind in ("jwt", "jwe") or METADATA_KEY in flow.metadata else -1

    def prettify(self, data: bytes, metadata: contentviews.Metadata) -> str:
        flow = metadata.flow
        if not isinstance(flow, http.HTTPFlow):
            raise ValueError("not an HTTP flow")
        knowledge: Knowledge = self._knowledge()
        lines = describe_flow(flow, knowledge)
        if isinstance(metadata.http_message, http.Response):
            body = data[:_BODY_SHOWN].decode("utf-8", "replace")
            body = "".join(c if c.isprintable() or c in "\n\t" else "?" for c in body)
            more = f"  # {len(data) - _BODY_SHOWN} more bytes" if len(data) > _BODY_SHOWN else ""
            lines += [f"response body: |{more}", *(f"  {line}" for line in body.splitlines() or [""])]
        return "\n".join(lines)


_BODY_SHOWN = 4096  # bytes of the response body shown under the verdict (the Raw view has it all)


def _follow_focus(flow: http.HTTPFlow) -> None:
    """Make `@focus` the flow the user is looking at. mitmweb's selection lives in the browser, and `@focus` resolves
    to the server's view focus, which nothing moves: `apigw.explain @focus` answered for another flow. The browser
    asks for a flow's content views when it shows that flow, so its focus is the flow rendered last."""
    try:
        view = ctx.master.addons.get("view")
        if view is not None and view.focus.flow is not flow and view.get_by_id(flow.id) is flow:
            view.focus.flow = flow
    except Exception:  # no master (offline rendering), or a flow not in the view: nothing to follow
        pass


def describe_flow(flow: http.HTTPFlow, knowledge: Knowledge) -> list[str]:
    """YAML-shaped lines: the verdict (if any), the token with readable times, and the check chain."""
    lines: list[str] = []
    meta = flow.metadata.get(METADATA_KEY)
    if meta:
        if meta.get("cause"):
            lines.append(f"verdict: {meta['cause']} ({meta['confidence']})  # {meta['title']}")
            lines.append(f"summary: {_scalar(meta['summary'])}")
            lines.append("fix:")
            lines += [f"  - {_scalar(step)}" for step in meta.get("fix", [])]
            if meta.get("alternatives"):
                lines.append("also possible:")
                lines += [
                    f"  - {a['cause']} ({a['confidence']})  # tell apart by {_scalar(a['tell'])}"
                    for a in meta["alternatives"]
                ]
        if meta.get("warnings"):
            lines.append("warnings: [" + ", ".join(meta["warnings"]) + "]")
    reading = read_flow(flow, knowledge)
    if reading is None:
        return [*lines, "credential: not read  # the host is not a watched API or Cognito host (apigw_hosts)"]
    credential = reading.credential
    lines.append(f"credential: {credential.kind}" + (f"  # in {credential.location}" if credential.location else ""))
    if credential.damage:
        lines.append("damage: [" + ", ".join(credential.damage) + "]")
    if reading.token is not None:
        lines += _token_lines(reading.token, reading.now)
    if reading.route is not None and reading.expectations is not None:
        lines.append("definition:")
        lines += [f"  - {_scalar(line)}" for line in describe_expectations(reading.expectations, reading.route)]
    if meta and meta.get("checks"):
        lines.append("checks:")
        for check in meta["checks"]:
            detail = ", ".join(
                f"{key}: {_scalar(check[key])}" for key in ("expected", "actual", "note") if check.get(key)
            )
            lines.append(f"  - {check['id']}: {check['result'].upper()}" + (f"  # {detail}" if detail else ""))
    return lines


def _token_lines(token: Token, now: float) -> list[str]:
    lines = ["token:", f"  fingerprint: {token.fingerprint}  # the signature itself is never shown"]
    if token.encrypted:
        return [*lines, "  kind: encrypted JWE (a Cognito refresh token)"]
    if token.problems:
        return [*lines, "  problems:"] + [f"    - {_scalar(p)}" for p in token.problems]
    lines.append("  header:")
    lines += [f"    {key}: {_scalar(value)}" for key, value in token.header.items()]
    lines.append("  claims:")
    for key, value in token.claims.items():
        line = f"    {key}: {_scalar(value)}"
        if key in _TIME_CLAIMS and isinstance(value, int | float):
            line += f"  # {utc(value)}, {_relative(key, value, now)}"
        lines.append(line)
    return lines


def _relative(claim: str, when: float, now: float) -> str:
    if claim == "exp":
        return f"expired {ago(now - when)} ago" if when <= now else f"valid for {ago(when - now)}"
    return f"{ago(now - when)} before the request" if when <= now else f"{ago(when - now)} after the request"


def _scalar(value: Any) -> str:
    text = str(value)
    if text == "" or any(c in text for c in ":#{}[]\n") or text.strip() != text:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text
