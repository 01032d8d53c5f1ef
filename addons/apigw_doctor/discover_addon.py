"""`apigw_discover`: read the definitions of the API ids seen in traffic from AWS, off the event loop.

Opt-in. For each new execute-api id (at most `_MAX_APIS`), one worker thread runs the read-only calls of
`discover.py` with the user's AWS credentials, writes the cache file under the mitmproxy confdir
(`apigw-discover/API_ID.json`, usable later with apigw_api_spec) and adds the API to the doctor's knowledge.
The flow that revealed the id is never delayed or changed, and nothing from it but the id and region is used:
no token or header leaves the proxy.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from mitmproxy import ctx, http

from .apidef import DefinitionError, Definitions, load_definitions
from .discover import DiscoverError, discover_api, write_cache
from .reading import watched

logger = logging.getLogger(__name__)
_MAX_APIS = 64


class ApiDiscovery:
    def __init__(self, doctor: Any) -> None:
        self.doctor = doctor  # the ApiGwDoctor whose knowledge gains the discovered APIs
        self.seen: set[tuple[str, str]] = set()
        self.pending: set[asyncio.Future] = set()

    def load(self, loader: Any) -> None:
        loader.add_option("apigw_discover", bool, False,
                          "Read the definitions of the API ids seen in traffic from AWS (boto3, read-only calls, "
                          "off the event loop); cached under the confdir for apigw_api_spec.")  # fmt: skip

    def response(self, flow: http.HTTPFlow) -> None:
        if not ctx.options.apigw_discover:
            return
        found = watched(flow.request, self.doctor.knowledge)
        if found is None or found.surface != "rest" or not found.api_id or not found.region:
            return
        key = (found.api_id, found.region)
        if key in self.seen or len(self.seen) >= _MAX_APIS:
            return
        if any(api.api_id == found.api_id for api in self.doctor.knowledge.definitions.apis):
            return  # apigw_api_spec already describes it
        self.seen.add(key)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        path = Path(ctx.options.confdir).expanduser() / "apigw-discover" / f"{found.api_id}.json"
        future = loop.run_in_executor(None, _discover, found.api_id, found.region, path)
        self.pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: asyncio.Future) -> None:
        self.pending.discard(future)
        try:
            definitions = future.result()
        except (DiscoverError, DefinitionError, OSError) as e:
            logger.warning(f"apigw-doctor: discover: {e}")
            return
        except Exception as e:  # contain our own failures
            logger.warning(f"apigw-doctor: discover failed: {type(e).__name__}: {e}")
            return
        knowledge = self.doctor.knowledge
        knowledge.definitions = Definitions(knowledge.definitions.apis + definitions.apis)
        knowledge.route_expectations.clear()
        logger.info(f"apigw-doctor: discovered {definitions.describe()} from AWS")


def _discover(api_id: str, region: str, path: Path) -> Definitions:
    write_cache([discover_api(api_id, region)], path)
    return load_definitions([str(path)])
