"""The terminal: one full verdict per failure, identical repeats summed up in one line."""

from __future__ import annotations

import logging

from mitmproxy.test import taddons

from apigw_doctor.addon import ApiGwDoctor

from .builders import NOW, REST_401, REST_EXPIRED, flow, mint


def headlines(caplog) -> list[str]:
    return [r.getMessage().splitlines()[0] for r in caplog.records if r.name == "apigw_doctor.addon"]


def test_identical_failures_print_once_then_a_count(caplog):
    caplog.set_level(logging.INFO)
    addon = ApiGwDoctor()
    expired = mint(exp=NOW - 60)
    with taddons.context(addon):
        for _ in range(5):
            addon.response(flow(REST_EXPIRED, request_headers={"Authorization": expired}))
        addon.response(flow(REST_401))  # something else happens: the repeats are summed up first
        addon.done()
    assert headlines(caplog) == [
        "401 GET /prod/items  token-expired (high)",
        "401 GET /prod/items  token-expired (high): the same verdict 4 more times",
        "401 GET /prod/items  missing-credential (high)",
    ]


def test_every_repeat_is_still_annotated():
    addon = ApiGwDoctor()
    flows = [flow(REST_401) for _ in range(3)]
    with taddons.context(addon):
        for f in flows:
            addon.response(f)
    assert all(f.metadata["apigw_doctor"]["cause"] == "missing-credential" and f.marked for f in flows)


def test_repeats_are_reported_at_exit(caplog):
    caplog.set_level(logging.INFO)
    addon = ApiGwDoctor()
    with taddons.context(addon):
        addon.response(flow(REST_401))
        addon.response(flow(REST_401))
        addon.done()
    assert headlines(caplog)[-1] == "401 GET /prod/items  missing-credential (high): the same verdict 1 more time"
