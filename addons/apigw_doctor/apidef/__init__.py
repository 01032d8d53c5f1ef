"""API definitions (`apigw_api_spec`): read from files, infrastructure code or AWS, each detected by its content.

`load_definitions` turns the option's entries into `Definitions`; `match_route` finds a flow's route in them.
An entry is `PATH`, or `API_ID=PATH` to say which API a file describes when the file itself does not (AWS CLI
output, a SAM template). A file that cannot be used raises `DefinitionError` with one line: file, where, why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from .awscli import Fragments, add_cli_output, assemble, is_cli_output, is_discover_cache, parse_discover_cache
from .cfn import is_template, parse_template
from .match import RouteMatch, match_route
from .model import Api, Authorizer, DefinitionError, Definitions, Route
from .openapi import is_openapi, parse_openapi
from .terraform import is_terraform, parse_terraform
from .yamlload import load_yaml

__all__ = [
    "Api",
    "Authorizer",
    "DefinitionError",
    "Definitions",
    "Route",
    "RouteMatch",
    "load_definitions",
    "match_route",
    "read_document",
]

_MAX_BYTES = 32 * 1024 * 1024
_API_ID = re.compile(r"^[a-z0-9]{10}$")
_SUPPORTED = (
    "an OpenAPI 3 / Swagger 2 export, a CloudFormation, SAM or CDK template, `terraform show -json` output, "
    "aws apigateway/apigatewayv2 get-authorizers, get-resources, get-routes or get-stages JSON, or an "
    "`apigw-doctor discover` cache"
)


def _split_spec(spec: str) -> tuple[str | None, str]:
    api_id, sep, path = spec.partition("=")
    if sep and _API_ID.match(api_id) and not Path(spec).exists():
        return api_id, path
    return None, spec


def read_document(path: str) -> Any:
    """The parsed JSON or YAML document; raises DefinitionError naming the file, the place and the reason."""
    file = Path(path).expanduser()
    try:
        raw = file.read_bytes() if file.stat().st_size <= _MAX_BYTES else None
    except OSError as e:
        raise DefinitionError(f"{path}: cannot read: {e.strerror or e}") from None
    if raw is None:
        raise DefinitionError(f"{path}: larger than {_MAX_BYTES // (1024 * 1024)} MB; not an API definition")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DefinitionError(f"{path}: byte {e.start}: not UTF-8 text") from None
    if text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise DefinitionError(f"{path}: line {e.lineno}, column {e.colno}: {e.msg}") from None
        except RecursionError:
            raise DefinitionError(f"{path}: nested too deeply") from None
    return load_yaml(text, path)


def load_definitions(specs: Iterable[str]) -> Definitions:
    apis: list[Api] = []
    fragments: dict[str | None, Fragments] = {}
    for entry in specs:
        if not entry.strip():
            continue
        api_id, path = _split_spec(entry.strip())
        doc = read_document(path)
        origin = f"file:{path}"
        try:
            if is_discover_cache(doc):
                found = parse_discover_cache(doc, origin)
            elif is_openapi(doc):
                found = parse_openapi(doc, origin)
            elif is_template(doc):
                found = parse_template(doc, origin)
            elif is_terraform(doc):
                found = parse_terraform(doc, origin)
            elif is_cli_output(doc):
                add_cli_output(doc, origin, fragments.setdefault(api_id, Fragments()))
                continue
            else:
                raise DefinitionError(f"{path}: {_what(doc)}; expected {_SUPPORTED}")
        except DefinitionError as e:
            raise DefinitionError(str(e).removeprefix("file:")) from None  # the parsers name the origin
        except (AttributeError, TypeError, KeyError, IndexError, ValueError) as e:
            reason = f"{type(e).__name__}: {e}"
            raise DefinitionError(f"{path}: unexpected content ({reason}); expected {_SUPPORTED}") from None
        if not found:
            raise DefinitionError(f"{path}: no API Gateway API in it (no REST or HTTP API resources, routes or paths)")
        apis.extend(replace(a, api_id=api_id) if api_id and a.api_id is None else a for a in found)
    for api_id, parts in fragments.items():
        apis.extend(assemble(parts, api_id))
    return Definitions(tuple(apis))


def _what(doc: Any) -> str:
    if isinstance(doc, dict) and isinstance(doc.get("log"), dict) and "entries" in doc["log"]:
        return "top level: a HAR capture, not an API definition (give it to analyze as a FILE)"
    if isinstance(doc, dict):
        keys = ", ".join(sorted(map(str, doc))[:6])
        return f"top level: an object with keys {keys or '(none)'}"
    return f"top level: a {type(doc).__name__}, not an object"
