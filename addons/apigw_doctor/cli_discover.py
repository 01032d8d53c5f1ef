"""`apigw-doctor discover API_ID [--region R] [--out PATH]`: the API's definition from AWS, as a cache file."""

from __future__ import annotations

import sys
from pathlib import Path

from .apidef import DefinitionError, load_definitions
from .discover import DiscoverError, discover_api, write_cache


def discover(api_ids: list[str], region: str | None, out: str | None) -> int:
    path = Path(out or f"apigw-{'-'.join(api_ids)}.discover.json")
    try:
        entries = [discover_api(api_id, region) for api_id in api_ids]
        write_cache(entries, path)
        summary = load_definitions([str(path)]).describe()
    except (DiscoverError, DefinitionError) as e:
        print(f"apigw-doctor discover: {e}", file=sys.stderr)
        return 2
    print(f"wrote {path}: {summary}")
    print(f"use it with: --set apigw_api_spec={path}  (or analyze --api-spec {path})")
    return 0
