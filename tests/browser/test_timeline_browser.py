"""The HTML timeline in a real headless Chromium, opened from disk: lanes, failure marks with their cause, and not
one network request. The screenshot it takes is the one in the README (docs/timeline-report.png): run with
APIGW_DOCTOR_SCREENSHOT=docs/timeline-report.png to refresh it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Request, expect, sync_playwright

from apigw_doctor.report.html import report_for_file
from tests.browser.test_mitmweb_browser import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.lineage_capture import Conversation, record_story

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"no chromium at {CHROMIUM} (set APIGW_DOCTOR_CHROMIUM, or `make test-browser` to install it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def conversation(tmp_path_factory: pytest.TempPathFactory) -> Conversation:
    return record_story(tmp_path_factory.mktemp("timeline-capture"))


def test_the_timeline_draws_lanes_and_failures_offline(browser: Browser, conversation: Conversation, tmp_path: Path):
    report = report_for_file(conversation.flows_file, tmp_path / "report.html", "apigw-doctor: the conversation")
    page = browser.new_page(viewport={"width": 1180, "height": 900})
    requests: list[str] = []

    def record(request: Request) -> None:
        requests.append(request.url)

    page.on("request", record)
    page.goto(report.as_uri())
    page.wait_for_load_state("load")

    lanes = page.locator("svg g.lane")
    assert lanes.count() >= 5  # the sign-in's ID and access tokens, the refreshed pair, and the token-less calls
    expect(lanes.first).to_contain_text("id token")
    stale = page.locator('g.mark.fail[data-cause="stale-token-after-refresh"]')
    assert stale.count() == 4
    expect(stale.first.locator("title")).to_contain_text("stale-token-after-refresh")
    expect(stale.first.locator("text")).to_have_text("stale-token-after-refresh")  # the first is labelled
    expect(page.locator('g.mark.fail[data-cause="authorizer-cached-policy"]')).to_have_count(1)
    expect(page.locator('g.mark.warn[data-cause="revoked-token-accepted"]')).to_have_count(1)
    assert page.locator("circle.event.issue").count() >= 4 and page.locator("rect.event.refresh").count() >= 2
    assert page.locator("path.event.revoke").count() >= 4

    # Clicking a failure shows its verdict: the mark links to the row that holds it.
    page.locator('g.mark.fail[data-cause="authorizer-cached-policy"] rect.hit').click()
    assert page.url.endswith("#flow-12")
    row = page.locator("tr#flow-12")
    expect(row).to_contain_text("authorizer-cached-policy")
    expect(row).to_contain_text("allowed on GET /prod/cached/items in flow #11")
    expect(page.locator("tr#flow-6")).to_contain_text("InitiateAuth in flow #1")

    shot = tmp_path / "timeline.png"
    page.goto(report.as_uri())  # back to the top: the picture, then the first verdicts
    page.screenshot(path=shot)
    assert shot.stat().st_size > 10_000
    if target := os.environ.get("APIGW_DOCTOR_SCREENSHOT"):
        shutil.copyfile(shot, target)
    page.close()
    assert set(requests) == {report.as_uri()}, requests  # the file itself (opened twice), and nothing else
