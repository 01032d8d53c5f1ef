"""Match a request to its route: stage prefix, base path mappings, path templates, `{proxy+}`, ANY, `$default`.

API Gateway picks the most specific route: literal segments before `{param}`, `{param}` before `{proxy+}`, an
explicit method before ANY, and `$default` (HTTP APIs) only when nothing else matches.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from .model import Api, Definitions, Route

_MAX_SEGMENTS = 64


@dataclass(frozen=True, slots=True)
class RouteMatch:
    api: Api
    route: Route | None  # None: the API is known, but it has no such route
    stage: str | None  # the stage the request names ("$default" when there is no prefix)
    path: str  # the path below the stage / base path
    bound: bool  # the API was picked by its id or custom domain, not because it was the only one loaded
    suggestion: str | None = None  # "GET /items" when the route was not found
    stage_known: bool | None = None  # whether the definition lists the stage (None: it lists no stages)

    @property
    def source(self) -> str:
        return self.api.source_of(self.route) if self.route else self.api.origin


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s][:_MAX_SEGMENTS]


def _score(template: list[str], segments: list[str]) -> tuple[int, ...] | None:
    """A sortable specificity score when the template matches the segments, else None."""
    score: list[int] = []
    for i, part in enumerate(template):
        if part.startswith("{") and part.endswith("+}"):
            return (*score, 0) if i < len(segments) else None  # greedy: one or more remaining segments
        if i >= len(segments):
            return None
        if part.startswith("{") and part.endswith("}"):
            score.append(1)
        elif part == segments[i]:
            score.append(2)
        else:
            return None
    return (*score, 3) if len(template) == len(segments) else None


def find_route(api: Api, method: str, path: str) -> Route | None:
    segments = _segments(path)
    best: tuple[tuple[tuple[int, ...], int], Route] | None = None
    default: Route | None = None
    for route in api.routes:
        if route.path == "$default":
            default = route
            continue
        if route.method not in (method, "ANY"):
            continue
        score = _score(_segments(route.path), segments)
        if score is None:
            continue
        rank = (score, 1 if route.method == method else 0)
        if best is None or rank > best[0]:
            best = (rank, route)
    return best[1] if best else default


def _suggest(api: Api, method: str, path: str, prefix: str) -> str | None:
    keys = [r.key for r in api.routes if r.path != "$default"]
    wanted = f"{method} {path}"
    close = difflib.get_close_matches(wanted, keys, n=1, cutoff=0.6)
    if not close:
        return None
    route_method, _, route_path = close[0].partition(" ")
    return f"{route_method} {prefix}{route_path}"


def _candidates(definitions: Definitions, api_id: str | None, host: str) -> tuple[list[Api], bool]:
    by_id = [a for a in definitions.apis if api_id and a.api_id == api_id]
    if by_id:
        return by_id, True
    by_host = [a for a in definitions.apis if host in a.hosts]
    if by_host:
        return by_host, True
    # Definitions that name no API id or domain (a SAM template, get-routes output) apply to any watched API.
    return [a for a in definitions.apis if a.api_id is None and not a.hosts], False


def _splits(api: Api, surface: str, path: str, on_custom_domain: bool) -> list[tuple[str | None, str]]:
    """(stage, path below it) readings of the request path for this API, the likeliest first."""
    segments = _segments(path)
    first = segments[0] if segments else ""
    rest = "/" + "/".join(segments[1:])
    if on_custom_domain:
        readings = []
        for base in sorted(api.base_paths, key=len, reverse=True):
            base_segments = _segments(base)
            if segments[: len(base_segments)] == base_segments:
                readings.append((None, "/" + "/".join(segments[len(base_segments) :])))
        return [*readings, (None, path)]
    if surface in ("rest", "websocket") or api.kind == "rest":
        return [(first or None, rest)]
    if api.stages is not None and first in api.stages and first != "$default":
        return [(first, rest)]
    readings = [("$default", path)]
    if first:
        readings.append((first, rest))
    return readings


def match_route(
    definitions: Definitions, surface: str, host: str, api_id: str | None, method: str, path: str
) -> RouteMatch | None:
    """The route a request goes to, an API without that route (with a suggestion), or None (no definition applies)."""
    apis, bound = _candidates(definitions, api_id, host)
    if not apis:
        return None
    method = method.upper()
    on_custom_domain = surface == "custom"
    fallback: RouteMatch | None = None
    for api in apis:
        for stage, below in _splits(api, surface, path, on_custom_domain):
            stage_known = None if api.stages is None or stage is None else stage in api.stages
            route = find_route(api, method, below)
            if route is not None:
                return RouteMatch(api, route, stage, below, bound, stage_known=stage_known)
            if fallback is None:
                prefix = f"/{stage}" if stage and stage != "$default" else ""
                fallback = RouteMatch(api, None, stage, below, bound, _suggest(api, method, below, prefix), stage_known)
    return fallback
