"""RSS growth over many flows through `ApiGwDoctor().response`, in a fresh process.

Run by run.py as `python bench/memory.py --flows N --warmup W`; prints one JSON object on its last line.
Each flow is built, handed to the hook and dropped, as in mitmdump (which keeps no flows without `-w`).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import time
from collections import Counter
from collections.abc import Callable

from mitmproxy import http

from apigw_doctor.addon import ApiGwDoctor
from apigw_doctor.model import METADATA_KEY
from common import UNWATCHED_HOST, TokenFactory, addon_context, builders

_PAGE = os.sysconf("SC_PAGE_SIZE")
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
APIS = 1000  # distinct API hosts: more than the engine's learned-baseline bound (256), to exercise its eviction


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


def _host(i: int) -> str:
    return f"{(i % APIS) * 7919 % 10**10:010d}".translate(str.maketrans("0123456789", "abcdefghij")) + (
        f".execute-api.{REGIONS[i % len(REGIONS)]}.amazonaws.com"
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


OK = (200, {}, b'{"ok":true}')
COGNITO_IDP = "cognito-idp.us-east-1.amazonaws.com"
KINDS = ("failing", "passing", "signin", "unwatched")


def mix(tokens: TokenFactory) -> list[tuple[str, Callable[[int], http.HTTPFlow]]]:
    """20 slots, cycled: 65 % failing (five kinds), 20 % passing, 5 % Cognito sign-ins, 10 % unwatched."""
    path = "/prod/items/{}".format

    def rest401(i: int) -> http.HTTPFlow:
        return builders.flow(builders.REST_401, host=_host(i), path=path(i), request_headers=_bearer(tokens.token()))

    def expired(i: int) -> http.HTTPFlow:
        token = tokens.token(expired=True)
        return builders.flow(builders.REST_EXPIRED, host=_host(i), path=path(i), request_headers=_bearer(token))

    def audience(i: int) -> http.HTTPFlow:
        return builders.flow(
            builders.HTTP_401_AUDIENCE,
            host=_host(i),
            path=path(i),
            rest_ids=False,
            request_headers=_bearer(tokens.token()),
        )

    def deny(i: int) -> http.HTTPFlow:
        token = tokens.token(use="access")
        return builders.flow(builders.LAMBDA_DENY_NEW, host=_host(i), path=path(i), request_headers=_bearer(token))

    def missing(i: int) -> http.HTTPFlow:
        return builders.flow(builders.MISSING_AUTH_TOKEN, host=_host(i), path=path(i))

    def passing(i: int) -> http.HTTPFlow:
        return builders.flow(OK, host=_host(i), path=path(i), request_headers=_bearer(tokens.token()))

    def signin(i: int) -> http.HTTPFlow:
        """A Cognito sign-in answer: three new tokens for the lineage store (bounded at lineage.MAX_TOKENS)."""
        result = {"IdToken": tokens.token(), "AccessToken": tokens.token(use="access"), "ExpiresIn": 3600,
                  "RefreshToken": f"eyJjdHkiOiJKV1QifQ.{i:012d}.a.b.c", "TokenType": "Bearer"}  # fmt: skip
        return builders.flow(
            (200, {}, json.dumps({"AuthenticationResult": result}).encode()),
            host=COGNITO_IDP, path="/", method="POST", rest_ids=False,
            request_headers={"X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"},
            request_body=b'{"AuthFlow":"USER_PASSWORD_AUTH","ClientId":"bench"}',
        )  # fmt: skip

    def unwatched(i: int) -> http.HTTPFlow:
        return builders.flow(
            builders.REST_401, host=UNWATCHED_HOST, path=path(i), request_headers=_bearer(tokens.token())
        )

    slots = [("failing", rest401)] * 6 + [("failing", expired)] * 2 + [("failing", audience)] * 2
    slots += (
        [("failing", deny)] * 2
        + [("failing", missing)]
        + [("passing", passing)] * 4
        + [("signin", signin)]
        + [("unwatched", unwatched)] * 2
    )
    return slots


def run(flows: int, warmup: int, checkpoints: int = 10) -> dict:
    started = time.perf_counter()
    tokens = TokenFactory(pool=256)
    slots = mix(tokens)
    addon = ApiGwDoctor()
    curve: list[tuple[int, float]] = []
    verdicts: Counter[tuple[str, bool]] = Counter()
    every = max(flows // checkpoints, 1)
    with addon_context(addon) as tctx:
        loop = tctx.master.event_loop
        baseline = 0
        for i in range(warmup + flows):
            kind, make = slots[i % len(slots)]
            f = make(i)
            addon.response(f)
            verdicts[kind, METADATA_KEY in f.metadata] += 1
            del f
            if i % 1000 == 999:  # mitmproxy's loop delivers log records as they come; so do we, in batches
                loop.run_until_complete(asyncio.sleep(0))
            done = i + 1 - warmup
            if done == 0:
                gc.collect()
                baseline = rss_bytes()
            elif done > 0 and done % every == 0:
                loop.run_until_complete(asyncio.sleep(0))
                gc.collect()
                curve.append((done, (rss_bytes() - baseline) / 2**20))
    return {
        "flows": flows,
        "warmup": warmup,
        "baseline_rss_mb": baseline / 2**20,
        "growth_mb": curve[-1][1] if curve else 0.0,
        "curve_mb": curve,
        "flows_with_verdict": {k: verdicts[k, True] for k in KINDS},
        "flows_by_kind": {k: verdicts[k, True] + verdicts[k, False] for k in KINDS},
        "lineage_tokens": len(addon.knowledge.lineage),
        "token_pool": 256,
        "distinct_api_hosts": APIS,
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flows", type=int, default=100_000)
    parser.add_argument("--warmup", type=int, default=5_000)
    args = parser.parse_args()
    print(json.dumps(run(args.flows, args.warmup)))


if __name__ == "__main__":
    main()
