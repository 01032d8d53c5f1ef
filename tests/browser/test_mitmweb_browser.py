"""mitmweb in a real headless Chromium (Debian's, driven by playwright; nothing is downloaded).

Run with `make test-browser`, which installs chromium with apt-get when it is missing. The browser binary comes
from `APIGW_DOCTOR_CHROMIUM` (default /usr/bin/chromium).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.web.harness import Mitmweb, running_mitmweb

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("APIGW_DOCTOR_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCENARIOS = ("ok-rest-id-token", "token-expired", "missing-credential")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"no chromium at {CHROMIUM} (set APIGW_DOCTOR_CHROMIUM, or `make test-browser` to install it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def web(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mitmweb]:
    with running_mitmweb(tmp_path_factory.mktemp("mitmweb-browser"), SCENARIOS) as web:
        yield web


@pytest.fixture
def page(browser: Browser, web: Mitmweb) -> Iterator[Page]:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(10_000)
    page.goto(f"{web.base_url}/?token={web.password}")  # sets the auth cookie for the API calls the UI makes
    yield page
    page.close()


def _select_expired_flow(page: Page) -> None:
    rows = page.locator(".flow-table tbody tr")
    expect(rows.filter(has_text="/prod/items")).to_have_count(len(SCENARIOS))
    failing = rows.filter(has_text="token-expired [H]")  # the `comment` column (launch.WEB_COLUMNS)
    expect(failing).to_have_count(1)
    expect(failing.locator(".marker")).to_have_text("")  # no marker: @marked stays the user's
    failing.click()


def test_the_verdict_code_is_readable_in_the_comment_column_at_1400_px(page: Page) -> None:
    rows = page.locator(".flow-table tbody tr")
    cell = rows.filter(has_text="token-expired [H]").locator(".col-comment")
    expect(cell).to_have_count(1)
    # The rendered width of the code and its confidence letter fits inside the (150 px) column.
    fits = cell.evaluate(
        """el => { const range = document.createRange(); const text = el.firstChild;
                   range.setStart(text, 0); range.setEnd(text, "token-expired [H]".length);
                   return range.getBoundingClientRect().right <= el.getBoundingClientRect().right + 0.5; }"""
    )
    assert fits


def test_comment_tab_shows_the_verdict(page: Page, tmp_path: Path) -> None:
    _select_expired_flow(page)
    page.locator(".flow-detail nav.nav-tabs a", has_text="Comment").click()
    comment = page.locator(".flow-detail .inline-input")
    expect(comment).to_be_visible()
    expect(comment).to_contain_text("token-expired [H] The token has expired.")
    expect(comment).to_contain_text("Fix: (1) ")
    page.screenshot(path=tmp_path / "comment-tab.png")


def test_request_tab_shows_the_apigw_view(page: Page, tmp_path: Path) -> None:
    _select_expired_flow(page)
    page.locator(".flow-detail nav.nav-tabs a", has_text="Request").click()
    view = page.locator(".flow-detail").get_by_text("verdict: token-expired (high)")
    expect(view).to_be_visible()
    expect(page.locator(".flow-detail")).to_contain_text("expired 1 h ago")
    page.screenshot(path=tmp_path / "request-tab.png")


def test_response_tab_shows_the_verdict_above_the_body(page: Page, tmp_path: Path) -> None:
    _select_expired_flow(page)
    page.locator(".flow-detail nav.nav-tabs a", has_text="Response").click()
    detail = page.locator(".flow-detail")
    expect(detail.get_by_text("verdict: token-expired (high)")).to_be_visible()
    expect(detail).to_contain_text("The incoming token has expired")  # the 401 body, below the verdict
    page.screenshot(path=tmp_path / "response-tab.png")
