"""The terminal: one log record per story (a verdict on a route template), not per flow."""

from __future__ import annotations

import asyncio
import logging

from mitmproxy.test import taddons

from apigw_doctor.addon import ApiGwDoctor
from apigw_doctor.verdict_log import route_template

from .builders import NOW, REST_401, REST_EXPIRED, flow, mint


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def records(caplog) -> list[str]:
    return [r.getMessage().splitlines()[0] for r in caplog.records if r.name == "apigw_doctor.addon"]


def doctor(clock: Clock | None = None) -> ApiGwDoctor:
    addon = ApiGwDoctor()
    if clock is not None:
        addon.verdicts._clock = clock
    return addon


def test_route_templates_collapse_ids():
    assert route_template("/prod/orders/123/items/7") == "/prod/orders/{id}/items/{id}"
    assert route_template("/prod/users/3f2504e0-4f89-11d3-9a0c-0305e82c3301") == "/prod/users/{id}"
    assert route_template("/prod/blobs/9f86d081884c7d659a2feaa0c55ad015") == "/prod/blobs/{id}"
    assert route_template("/prod/items?id=5") == "/prod/items"
    assert route_template("/prod/v2/cafe/items") == "/prod/v2/cafe/items"  # short words stay, even hex-looking


def test_the_first_of_each_verdict_prints_at_once(caplog):
    """Four different failures in a row: four full verdicts at once, none held back for a later line."""
    caplog.set_level(logging.INFO)
    addon = doctor(Clock())
    expired = mint(exp=NOW - 60)
    with taddons.context(addon):
        addon.response(flow(REST_401))
        addon.response(flow(REST_EXPIRED, request_headers={"Authorization": expired}))
        addon.response(flow(REST_401, request_headers={"Authorization": "undefined"}))
        addon.response(flow(REST_401, request_headers={"Authorization": "Bearer not.a.jwt"}))
    assert len(records(caplog)) == 4
    assert records(caplog)[0] == "401 GET /prod/items  missing-credential (high)"


def test_one_record_per_story_when_paths_differ(caplog):
    """An app walking /prod/items/1, /2, ... with an expired token: one full verdict, then counts."""
    caplog.set_level(logging.INFO)
    clock = Clock()
    addon = doctor(clock)
    expired = mint(exp=NOW - 60)
    with taddons.context(addon):
        for i in range(200):
            clock.now += 0.01
            f = flow(REST_EXPIRED, request_headers={"Authorization": expired})
            f.request.path = f"/prod/items/{1000 + i}"
            addon.response(f)
        addon.done()
    lines = records(caplog)
    assert lines[0] == "401 GET /prod/items/1000  token-expired (high)"
    counts = [int(line.split("the same verdict ")[1].split()[0]) for line in lines[1:]]
    assert all("401 GET /prod/items/{id}  token-expired (high): the same verdict" in line for line in lines[1:])
    assert sum(counts) == 199  # every flow is accounted for
    assert len(lines) <= 1 + 2 / 5 + 2  # 2 s of traffic: at most one periodic line, plus the one at exit


def test_counts_print_every_few_seconds_while_repeats_go_on(caplog):
    caplog.set_level(logging.INFO)
    clock = Clock()
    addon = doctor(clock)
    with taddons.context(addon):
        for _ in range(30):  # 30 s of one failure a second
            clock.now += 1
            addon.response(flow(REST_401))
        summaries = [line for line in records(caplog) if "more time" in line]
        assert 4 <= len(summaries) <= 6  # about every 5 s, before any exit or other verdict
        assert summaries[0].startswith("401 GET /prod/items  missing-credential (high): the same verdict 6 more times")


def test_a_timer_reports_the_count_when_no_further_verdict_comes(caplog):
    """The summary does not wait for the next flow or for exit: a timer on the event loop writes it."""
    caplog.set_level(logging.INFO)

    async def scenario() -> list[str]:
        addon = ApiGwDoctor()
        addon.verdicts._interval = 0.05
        with taddons.context(addon):
            addon.response(flow(REST_401))
            addon.response(flow(REST_401))
            addon.response(flow(REST_401))
            for _ in range(100):  # the loop stays free; the timer fires within it
                await asyncio.sleep(0.02)
                if any("more time" in line for line in records(caplog)):
                    break
        return records(caplog)

    lines = asyncio.run(scenario())
    assert lines[-1].startswith("401 GET /prod/items  missing-credential (high): the same verdict 2 more times")


def test_apigw_repeat_all_prints_every_verdict(caplog):
    caplog.set_level(logging.INFO)
    addon = doctor(Clock())
    with taddons.context(addon) as tctx:
        tctx.configure(addon, apigw_repeat="all")
        for _ in range(5):
            addon.response(flow(REST_401))
        addon.done()
    assert records(caplog) == ["401 GET /prod/items  missing-credential (high)"] * 5


def test_every_repeat_is_still_annotated():
    addon = doctor(Clock())
    flows = [flow(REST_401) for _ in range(3)]
    with taddons.context(addon):
        for f in flows:
            addon.response(f)
    assert all(f.metadata["apigw_doctor"]["cause"] == "missing-credential" for f in flows)


def test_repeats_are_reported_at_exit(caplog):
    caplog.set_level(logging.INFO)
    addon = doctor(Clock())
    with taddons.context(addon):
        addon.response(flow(REST_401))
        addon.response(flow(REST_401))
        addon.done()
    assert (
        records(caplog)[-1] == "401 GET /prod/items  missing-credential (high): the same verdict 1 more time (in 0 s)"
    )
